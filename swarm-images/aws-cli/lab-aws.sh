#!/bin/sh
# Lab stand-in in front of the AWS CLI (no AWS endpoint is reachable from the lab): `aws s3 cp FILE s3://BUCKET/KEY`
# with the options the program's scripts pass writes FILE to /lab-s3/BUCKET/KEY (the lab's bucket stand-in) and
# says so; any other option fails by name. Every other call runs Debian's AWS CLI unchanged.
if [ "${1:-}" = s3 ] && [ "${2:-}" = cp ]; then
    shift 2
    src= dst=
    while [ $# -gt 0 ]; do
        case $1 in
            --region | --sse | --sse-kms-key-id) [ $# -ge 2 ] || { echo "lab aws: $1 needs a value" >&2; exit 2; }; shift 2 ;;
            --only-show-errors) shift ;;
            s3://*) dst=$1; shift ;;
            -*) echo "lab aws: s3 cp option $1 is not handled by the lab stand-in" >&2; exit 2 ;;
            *) src=$1; shift ;;
        esac
    done
    [ -n "$src" ] && [ -n "$dst" ] || { echo "lab aws: want s3 cp FILE s3://BUCKET/KEY" >&2; exit 2; }
    out=/lab-s3/${dst#s3://}
    mkdir -p "${out%/*}" && cp "$src" "$out" || exit 1
    echo "lab aws: $src -> $out (the lab's stand-in for $dst)" >&2
    exit 0
fi
exec /usr/bin/aws "$@"
