#!/bin/sh
# Lab stand-in in front of the AWS CLI (no AWS endpoint is reachable from the lab): `aws s3 cp FILE s3://BUCKET/KEY`
# with the options the program's scripts pass writes FILE to /lab-s3/BUCKET/KEY (the lab's bucket stand-in) and
# says so, and `aws s3api get-object` reads from there (or fails with S3's NoSuchKey); any other option fails by
# name. Every other call runs Debian's AWS CLI unchanged.
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
if [ "${1:-}" = s3api ] && [ "${2:-}" = get-object ]; then
    # The fence sync's read (renderers/fence.ts renderFenceSync): the object from /lab-s3, or S3's NoSuchKey.
    shift 2
    bucket= key= out=
    while [ $# -gt 0 ]; do
        case $1 in
            --bucket) bucket=$2; shift 2 ;;
            --key) key=$2; shift 2 ;;
            --region | --cli-connect-timeout | --cli-read-timeout) [ $# -ge 2 ] || { echo "lab aws: $1 needs a value" >&2; exit 2; }; shift 2 ;;
            -*) echo "lab aws: s3api get-object option $1 is not handled by the lab stand-in" >&2; exit 2 ;;
            *) out=$1; shift ;;
        esac
    done
    [ -n "$bucket" ] && [ -n "$key" ] && [ -n "$out" ] || { echo "lab aws: want s3api get-object --bucket B --key K OUTFILE" >&2; exit 2; }
    if [ -f "/lab-s3/$bucket/$key" ]; then cp "/lab-s3/$bucket/$key" "$out" && echo '{}' && exit 0; exit 1; fi
    echo "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist." >&2
    exit 254
fi
exec /usr/bin/aws "$@"
