#!/bin/sh
# Fills corpus/<target>/ with seeds taken from the repository's scripts: every line of
# scripts/**/*.sock for parse_line, the DATA words for data_escapes, the ADDR words for address.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/parse_line corpus/data_escapes corpus/address
find ../scripts -name '*.sock' -print | sort | while read -r script; do
    base=$(basename "$script" .sock)
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        [ -n "$line" ] || continue
        printf '%s' "$line" > "corpus/parse_line/$base-$n"
        set -f
        # shellcheck disable=SC2086
        set -- $line
        set +f
        case "${1:-}" in
            bind|connect|sendto)
                [ $# -ge 3 ] && printf '%s' "$3" > "corpus/address/$base-$n" ;;
            send|write|expect)
                data=${line#*\"}
                [ "$data" != "$line" ] && printf '%s' "${data%\"*}" > "corpus/data_escapes/$base-$n" ;;
        esac
    done < "$script"
    cat "$script" > "corpus/parse_line/$base-whole"
done
for addr in ':0' '127.0.0.1:8080' '[::1]:9' 'localhost:80' '/tmp/play.sock' './x.sock' \
    '../x.sock' '@play' '$srv'; do
    printf '%s' "$addr" > "corpus/address/extra-$(printf '%s' "$addr" | cksum | cut -d' ' -f1)"
done
printf 'GET / HTTP/1.1\\r\\n\\x00\\xff\\\\\\"' > corpus/data_escapes/extra-escapes
echo "seeds: $(ls corpus/parse_line | wc -l) parse_line, $(ls corpus/data_escapes | wc -l) data_escapes, $(ls corpus/address | wc -l) address"
