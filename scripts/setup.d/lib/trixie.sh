# shellcheck shell=bash
# Sourced by the setup.d steps that take a package from Debian 13 (trixie) without touching the machine's apt
# (20-trixie-patroni.sh, 30-trixie-etcd.sh); not a step itself (setup-test-env.sh runs only setup.d/*.sh).
#
# The packages are downloaded from trixie with a SEPARATE sources list and apt state/cache directories (the machine's
# own sources, state and packages are never touched, nothing is upgraded) and extracted with `dpkg-deb -x`. The
# mirror is the one the machine's apt configuration already uses.

# trixie_present DEST VERSION LABEL: true (and says so) when DEST already holds VERSION (its .installed-VERSION mark).
trixie_present() {
    if [ -f "$1/.installed-$2" ]; then
        echo "  $3 $2: present in $1"
        return 0
    fi
    return 1
}

# trixie_extract VERSION DEST PKG...: downloads trixie's Debian revision of upstream VERSION of every PKG (the
# revision is looked up on the first PKG; they are built from one source) and extracts them, in order, into DEST
# (emptied first). The caller checks the result and marks DEST with .installed-VERSION.
trixie_extract() {
    local version=$1 dest=$2
    shift 2
    local mirror keyring debver pkg label
    # The Debian mirror host from the machine's own apt configuration (deb822 or one-line format).
    mirror=$( (grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true; \
               grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' || true) \
              | grep -E '/debian/?$' | head -n1 || true)
    if [ -z "$mirror" ]; then echo "  no Debian mirror found in /etc/apt/sources.list*" >&2; return 1; fi
    keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
    [ -f "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    TRIXIE_WORK=$(mktemp -d)
    trap 'rm -rf "$TRIXIE_WORK"' EXIT
    local work=$TRIXIE_WORK
    mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/etc/preferences.d" "$work/etc/sources.list.d"
    echo "deb [signed-by=$keyring] ${mirror%/} trixie main" > "$work/sources.list"
    local apt_opts=(
        -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/etc/sources.list.d"
        -o "Dir::Etc::Preferences=$work/etc/preferences" -o "Dir::Etc::PreferencesParts=$work/etc/preferences.d"
        -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=$work/status" -o "Dir::Cache=$work/cache"
        -o "Dir::Cache::archives=$work/archives" -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
    )
    touch "$work/status"
    label=$1
    [ $# -gt 1 ] && label="$(printf '%s, ' "${@:1:$#-1}" | sed 's/, $//') and ${!#}"
    echo "  downloading $label $version from trixie (separate apt state in $work)"
    apt-get "${apt_opts[@]}" update -qq
    # Any Debian revision of upstream $version.
    debver=$(apt-cache "${apt_opts[@]}" madison "$1" | awk -v v="$version" '$3 ~ "^"v"-" {print $3; exit}')
    if [ -z "$debver" ]; then echo "  trixie has no $1 $version-*" >&2; return 1; fi
    local wanted=()
    for pkg in "$@"; do wanted+=("$pkg=$debver"); done
    (cd "$work" && apt-get "${apt_opts[@]}" download "${wanted[@]}" >/dev/null)
    rm -rf "$dest"
    mkdir -p "$dest"
    for pkg in "$@"; do dpkg-deb -x "$work/${pkg}_"*.deb "$dest"; done
}
