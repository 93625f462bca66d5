#!/usr/bin/env bash
# qemu-cloak build driver: one stage per concern, each safe to re-run.
#
#   build.sh deps         install (as root) or check the Debian build dependencies
#   build.sh fetch        obtain the pinned QEMU base and verify its SHA-256
#   build.sh prepare      copy the pristine tree to build/qemu-src, apply the series
#   build.sh configure    configure QEMU in build/qemu-build
#   build.sh build        build qemu-system-x86_64, qemu-img and our tools
#   build.sh install      install into $DESTDIR$PREFIX
#   build.sh check-series apply the series to a scratch copy of the pristine base
#   build.sh all          deps-check fetch prepare configure build
#
# Settings come from config.mk (written by ./configure) through the Makefile, or
# from the environment when run by hand.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=qemu/base.conf
. "$TOP/qemu/base.conf"

CLOAK_VERSION=$(cat "$TOP/VERSION")
BUILD_DIR=${BUILD_DIR:-$TOP/build}
QEMU_CLOAK_CACHE=${QEMU_CLOAK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-cloak}
QEMU_SOURCE=${QEMU_SOURCE:-}
# QEMU is configured for CONFIG_PREFIX.  Its installed tree is relocatable
# (it finds share/ relative to bin/), so `install` may use another PREFIX.
CONFIG_PREFIX=${CONFIG_PREFIX:-/usr/local}
PREFIX=${PREFIX:-$CONFIG_PREFIX}
DESTDIR=${DESTDIR:-}
CCACHE=${CCACHE:-auto}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-/usr/bin/python3}
SERIES_DIR=$TOP/patches/qemu-$QEMU_VERSION
SRC_DIR=$BUILD_DIR/qemu-src
OBJ_DIR=$BUILD_DIR/qemu-build
PRISTINE_ROOT=$QEMU_CLOAK_CACHE/pristine
TARBALL_DIR=$QEMU_CLOAK_CACHE/tarballs

# Firmware comes from Debian's seabios, ipxe-qemu and qemu-system-data.
FIRMWARE_PATH=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu

# Scratch directories removed on any exit, so a failure leaves nothing half-made.
SCRATCH=()
cleanup_scratch() {
    local d
    for d in ${SCRATCH[@]+"${SCRATCH[@]}"}; do
        rm -rf "$d"
    done
}
trap cleanup_scratch EXIT

stage() { printf '\n==> [%s] %s\n' "$1" "$2"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- deps

# Debian packages, by what needs them.  "pkg/suite" comes from that suite.
BUILD_PACKAGES=(build-essential pkg-config ninja-build python3-venv flex bison
    libglib2.0-dev libpixman-1-dev libcap-ng-dev libcapstone-dev libslirp-dev
    libfdt-dev libseccomp-dev zlib1g-dev libjson-glib-dev xz-utils bzip2 ccache
    meson/bookworm-backports python3-pycotap/bookworm-backports)
RUNTIME_PACKAGES=(seabios ipxe-qemu qemu-system-data/bookworm-backports)
# gdb: a QEMU that dies of a signal in a test is reported with its backtrace.
TEST_PACKAGES=(busybox-static gdb)
# Each area may add packages in mk/<area>.packages, one per line.
EXTRA_PACKAGES=()
for f in "$TOP"/mk/*.packages; do
    [ -f "$f" ] || continue
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        EXTRA_PACKAGES+=("$p")
    done < "$f"
done

apt_sources_file=/etc/apt/sources.list.d/qemu-cloak.sources

# bookworm-backports (deb + deb-src: meson, pycotap, qemu-system-data and the
# QEMU base) and bookworm deb-src (the SeaBIOS source).
apt_sources_content() {
    cat <<EOF
# Added by qemu-cloak build.sh.
Types: deb deb-src
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $DEBIAN_MIRROR
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

ensure_apt_sources() {
    if [ -f "$apt_sources_file" ] && [ "$(cat "$apt_sources_file")" = "$(apt_sources_content)" ]; then
        return
    fi
    [ "$(id -u)" = 0 ] || die "need root to write $apt_sources_file (bookworm-backports deb/deb-src, bookworm deb-src)"
    info "writing $apt_sources_file (bookworm-backports deb/deb-src, bookworm deb-src)"
    apt_sources_content > "$apt_sources_file"
    APT_SOURCES_CHANGED=1
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "${1%%/*}" 2>/dev/null | grep -q 'install ok installed'
}

missing_packages() {
    local p
    for p in "$@"; do
        pkg_installed "$p" || echo "$p"
    done
}

meson_new_enough() {
    local v
    v=$(meson --version 2>/dev/null) || return 1
    [ "$(printf '%s\n1.5.0\n' "$v" | sort -V | head -n1)" = 1.5.0 ]
}

apt_install() {
    local plain=() bpo=() p
    for p in "$@"; do
        case $p in
        */bookworm-backports) bpo+=("${p%%/*}") ;;
        *) plain+=("$p") ;;
        esac
    done
    export DEBIAN_FRONTEND=noninteractive
    if [ ${#plain[@]} -gt 0 ]; then
        apt-get install -y -qq --no-install-recommends "${plain[@]}"
    fi
    if [ ${#bpo[@]} -gt 0 ]; then
        apt-get install -y -qq --no-install-recommends -t bookworm-backports "${bpo[@]}"
    fi
}

do_deps() {
    local mode=${1:-install} missing
    stage deps "Debian build, runtime and test dependencies"
    if [ "$mode" = install ] && [ "$(id -u)" = 0 ]; then
        ensure_apt_sources
        if [ -n "${APT_SOURCES_CHANGED:-}" ]; then
            apt-get update -qq
            APT_SOURCES_CHANGED=
        fi
    fi
    # shellcheck disable=SC2207
    missing=($(missing_packages "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}" ${EXTRA_PACKAGES[@]+"${EXTRA_PACKAGES[@]}"}))
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$mode" = check ] || [ "$(id -u)" != 0 ]; then
            die "missing dependencies: ${missing[*]} (run 'make deps' as root)"
        fi
        ensure_apt_sources
        apt-get update -qq
        APT_SOURCES_CHANGED=
        info "installing: ${missing[*]}"
        apt_install "${missing[@]}"
    fi
    meson_new_enough || die "meson >= 1.5 is required (found: $(meson --version 2>/dev/null || echo none)); install it from bookworm-backports"
    [ -x "$PYTHON" ] || die "python interpreter $PYTHON not found (set PYTHON=)"
    info "all dependencies present (meson $(meson --version))"
}

# ---------------------------------------------------------------- fetch

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# The SHA-256 Debian's Sources index gives for the orig tarball.
sources_index_sha256() {
    "$TOP/scripts/apt-source-sha256" "$DEBIAN_SOURCE_PACKAGE" \
        "$DEBIAN_SOURCE_VERSION" "$ORIG_TARBALL"
}

fetch_from_apt() {
    local dest=$1 tmp idx got
    ensure_apt_sources
    idx=$(sources_index_sha256)
    if [ -z "$idx" ] || [ -n "${APT_SOURCES_CHANGED:-}" ]; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq
        fi
        idx=$(sources_index_sha256)
    fi
    [ -n "$idx" ] || die "apt knows no source package $DEBIAN_SOURCE_PACKAGE=$DEBIAN_SOURCE_VERSION (is the deb-src entry for $DEBIAN_SUITE in $apt_sources_file?)"
    [ "$idx" = "$ORIG_SHA256" ] || die "the Sources index gives SHA-256 $idx for $ORIG_TARBALL, but qemu/base.conf pins $ORIG_SHA256"
    tmp=$(mktemp -d "$TARBALL_DIR/.fetch.XXXXXX")
    SCRATCH+=("$tmp")
    info "apt-get source --download-only $DEBIAN_SOURCE_PACKAGE=$DEBIAN_SOURCE_VERSION"
    # The .dsc and .debian.tar.xz of backports may 404; only the orig tarball matters.
    (cd "$tmp" && apt-get source -qq --download-only "$DEBIAN_SOURCE_PACKAGE=$DEBIAN_SOURCE_VERSION" >/dev/null 2>&1) || true
    if [ ! -f "$tmp/$ORIG_TARBALL" ]; then
        rm -rf "$tmp"
        die "apt-get source did not deliver $ORIG_TARBALL"
    fi
    got=$(sha256_of "$tmp/$ORIG_TARBALL")
    if [ "$got" != "$ORIG_SHA256" ]; then
        rm -rf "$tmp"
        die "checksum mismatch for downloaded $ORIG_TARBALL: got $got, want $ORIG_SHA256"
    fi
    mv "$tmp/$ORIG_TARBALL" "$dest"
    rm -rf "$tmp"
}

# Prints the path of a verified base: a tarball or an unpacked tree.
do_fetch() {
    local t got
    stage fetch "QEMU $QEMU_VERSION base"
    mkdir -p "$TARBALL_DIR"
    if [ -n "$QEMU_SOURCE" ]; then
        if [ -d "$QEMU_SOURCE" ]; then
            [ -f "$QEMU_SOURCE/VERSION" ] || die "--qemu-source=$QEMU_SOURCE: no VERSION file, not a QEMU tree"
            got=$(cat "$QEMU_SOURCE/VERSION")
            [ "$got" = "$QEMU_VERSION" ] || die "--qemu-source=$QEMU_SOURCE is QEMU $got, the series needs $QEMU_VERSION"
            info "using unpacked tree $QEMU_SOURCE (a tree cannot be checksummed; the series check guards it)"
            BASE=$QEMU_SOURCE
            return
        fi
        [ -f "$QEMU_SOURCE" ] || die "--qemu-source=$QEMU_SOURCE does not exist"
        got=$(sha256_of "$QEMU_SOURCE")
        case $got in
        "$ORIG_SHA256") info "Debian orig tarball, SHA-256 verified" ;;
        "$UPSTREAM_SHA256") info "upstream tarball, SHA-256 verified" ;;
        *) die "checksum mismatch for $QEMU_SOURCE: $got is neither $ORIG_TARBALL ($ORIG_SHA256) nor $UPSTREAM_TARBALL ($UPSTREAM_SHA256)" ;;
        esac
        BASE=$QEMU_SOURCE
        return
    fi
    t=$TARBALL_DIR/$ORIG_TARBALL
    if [ -f "$t" ]; then
        got=$(sha256_of "$t")
        if [ "$got" != "$ORIG_SHA256" ]; then
            die "cached $t is corrupt (SHA-256 $got, want $ORIG_SHA256); delete it and re-run"
        fi
        info "cached $t, SHA-256 verified"
    else
        fetch_from_apt "$t"
        info "downloaded $t, SHA-256 verified against the Sources index and qemu/base.conf"
    fi
    BASE=$t
}

# Unpacks a verified tarball once into the cache; sets PRISTINE.
do_unpack() {
    local sum dir tmp top
    if [ -d "$BASE" ]; then
        PRISTINE=$BASE
        return
    fi
    sum=$(sha256_of "$BASE")
    dir=$PRISTINE_ROOT/$sum
    if [ -f "$dir/.complete" ]; then
        PRISTINE=$(cat "$dir/.complete")
        return
    fi
    info "unpacking $(basename "$BASE")"
    mkdir -p "$PRISTINE_ROOT"
    rm -rf "$dir"
    tmp=$(mktemp -d "$PRISTINE_ROOT/.unpack.XXXXXX")
    SCRATCH+=("$tmp")
    tar --no-same-owner -xf "$BASE" -C "$tmp" || { rm -rf "$tmp"; die "cannot unpack $BASE (corrupt tarball?)"; }
    top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
    if [ -z "$top" ] || [ "$(cat "$top/VERSION" 2>/dev/null)" != "$QEMU_VERSION" ]; then
        rm -rf "$tmp"
        die "$BASE does not unpack to a QEMU $QEMU_VERSION tree"
    fi
    echo "$dir/$(basename "$top")" > "$tmp/.complete"
    mv "$tmp" "$dir"
    PRISTINE=$(cat "$dir/.complete")
}

# ---------------------------------------------------------------- series

series_patches() {
    [ -f "$SERIES_DIR/series" ] || die "no series file at $SERIES_DIR/series"
    grep -v -e '^#' -e '^[[:space:]]*$' "$SERIES_DIR/series"
}

# Applies the series to tree $1 (scripts/apply-series: shared with the
# firmware build); a bad patch stops everything, named with its file.
apply_series() {
    "$TOP/scripts/apply-series" "$SERIES_DIR" "$1" "QEMU $QEMU_VERSION" || exit 1
}

series_stamp() {
    {
        echo "$PRISTINE"
        cat "$SERIES_DIR/series"
        series_patches | while read -r p; do cat "$SERIES_DIR/$p"; done
    } | sha256sum | cut -d' ' -f1
}

# Our sources appear inside the tree as symlinks, so editing one file in
# hw-cloak/ rebuilds only what depends on it.  Our headers sit where QEMU
# keeps its own, include/hw/cloak.
link_our_sources() {
    local tree=$1
    ln -sfn "$TOP/hw-cloak" "$tree/hw/cloak"
    ln -sfn "$TOP/include/hw/cloak" "$tree/include/hw/cloak"
    ln -sfn "$TOP/trace-plugins" "$tree/trace-plugins"
}

do_prepare() {
    local stamp tmp
    stage prepare "patched tree in $SRC_DIR"
    stamp=$(series_stamp)
    if [ -f "$SRC_DIR/.cloak-series-stamp" ] && [ "$(cat "$SRC_DIR/.cloak-series-stamp")" = "$stamp" ]; then
        link_our_sources "$SRC_DIR"
        info "series unchanged, tree up to date"
        return
    fi
    # Fail on a bad series before touching anything.
    check_series_quick >/dev/null
    mkdir -p "$BUILD_DIR"
    tmp=$BUILD_DIR/.qemu-src.new
    rm -rf "$tmp"
    # cp -a keeps the pristine mtimes, so ninja rebuilds only what a patch
    # touched (sync_patched_mtimes).
    SCRATCH+=("$tmp")
    cp -a "$PRISTINE" "$tmp"
    apply_series "$tmp"
    link_our_sources "$tmp"
    [ -d "$SRC_DIR" ] && sync_patched_mtimes "$SRC_DIR" "$tmp"
    # Every file any series of this tree patched: one reverted now may not
    # have been rebuilt yet.
    { cat_if_exists "$SRC_DIR/.cloak-series-files"; series_files; } |
        sort -u > "$tmp/.cloak-series-files"
    echo "$stamp" > "$tmp/.cloak-series-stamp"
    rm -rf "$SRC_DIR.old"
    [ -d "$SRC_DIR" ] && mv "$SRC_DIR" "$SRC_DIR.old"
    mv "$tmp" "$SRC_DIR"
    rm -rf "$SRC_DIR.old"
}

# The files the series touches or creates, relative to the tree.
series_files() {
    local p
    series_patches | while read -r p; do
        if [ -f "$SERIES_DIR/$p" ]; then
            sed -n 's|^--- a/||p; s|^+++ b/||p' "$SERIES_DIR/$p"
        fi
    done | sort -u
}

# Prints file $1 if there is one (a bare cat would stop set -e scripts).
cat_if_exists() {
    if [ -f "$1" ]; then cat "$1"; fi
}

# For every file the old tree's series or the new one patches: one that
# came out the same keeps the old tree's mtime (nothing to rebuild); one
# that differs gets a new mtime, even when it is back to its pristine
# content, whose older mtime would let ninja keep a stale object.
sync_patched_mtimes() {
    local old=$1 new=$2 f
    { cat_if_exists "$old/.cloak-series-files"; series_files; } | sort -u |
        while read -r f; do
            [ -f "$new/$f" ] || continue
            if [ -f "$old/$f" ] && cmp -s "$old/$f" "$new/$f"; then
                touch -r "$old/$f" "$new/$f"
            else
                touch "$new/$f"
            fi
        done
}

# Applies the series to a scratch copy of only the files it touches: the
# same verdict as a full tree in a fraction of the time.
check_series_quick() {
    local tmp f
    tmp=$(mktemp -d)
    SCRATCH+=("$tmp")
    series_files | while read -r f; do
        if [ -e "$PRISTINE/$f" ]; then
            mkdir -p "$tmp/$(dirname "$f")"
            cp -a "$PRISTINE/$f" "$tmp/$f"
        fi
    done
    apply_series "$tmp"
    rm -rf "$tmp"
}

do_check_series() {
    stage check-series "series applies to pristine QEMU $QEMU_VERSION with no fuzz"
    check_series_quick
    info "series OK ($(series_patches | wc -l) patches)"
}

# ---------------------------------------------------------------- build

use_ccache() {
    case $CCACHE in
    no) return 1 ;;
    yes) [ -d /usr/lib/ccache ] || die "CCACHE=yes but /usr/lib/ccache is missing (apt-get install ccache)" ;;
    auto) [ -d /usr/lib/ccache ] || return 1 ;;
    *) die "CCACHE must be yes, no or auto (got '$CCACHE')" ;;
    esac
    # QEMU's configure pins the compiler, so ccache must come first on PATH.
    export PATH=/usr/lib/ccache:$PATH
    export CCACHE_DIR=${CCACHE_DIR:-$QEMU_CLOAK_CACHE/ccache}
    export CCACHE_BASEDIR=$TOP
    export CCACHE_NOHASHDIR=1
    export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-include_file_mtime,include_file_ctime}
    return 0
}

configure_args() {
    printf '%s\n' \
        "--prefix=$CONFIG_PREFIX" \
        "--python=$PYTHON" \
        --target-list=x86_64-softmmu \
        --enable-kvm --enable-tcg --enable-capstone --enable-cap-ng \
        --enable-slirp --enable-seccomp --enable-vnc --enable-fdt=system \
        --disable-docs --disable-gtk --disable-sdl --disable-opengl \
        --disable-spice --disable-xen --disable-guest-agent --disable-user \
        --disable-werror --disable-download --disable-install-blobs \
        --disable-modules \
        "--firmwarepath=$FIRMWARE_PATH" \
        "--with-pkgversion=qemu-cloak $CLOAK_VERSION"
}

do_configure() {
    local want have
    stage configure "QEMU for x86_64-softmmu in $OBJ_DIR"
    use_ccache && info "ccache on ($CCACHE_DIR)" || info "ccache off"
    want=$(configure_args | sha256sum | cut -d' ' -f1)
    have=$(cat "$OBJ_DIR/.cloak-configure-stamp" 2>/dev/null || true)
    if [ "$want" = "$have" ] && [ -f "$OBJ_DIR/build.ninja" ]; then
        info "configuration unchanged"
        return
    fi
    rm -rf "$OBJ_DIR"
    mkdir -p "$OBJ_DIR"
    local args
    mapfile -t args < <(configure_args)
    if ! (cd "$OBJ_DIR" && "$SRC_DIR/configure" "${args[@]}" > configure.log 2>&1); then
        tail -n 25 "$OBJ_DIR/configure.log" | sed 's/^/    | /' >&2
        mv "$OBJ_DIR" "$OBJ_DIR.failed" 2>/dev/null || true
        rm -rf "$OBJ_DIR.failed"
        die "QEMU configure failed (log above)"
    fi
    echo "$want" > "$OBJ_DIR/.cloak-configure-stamp"
    info "configured (log: $OBJ_DIR/configure.log)"
}

do_build() {
    stage build "qemu-system-x86_64 and qemu-img (-j$JOBS)"
    use_ccache || true
    ninja -C "$OBJ_DIR" -j "$JOBS" qemu-system-x86_64 qemu-img
    info "$("$OBJ_DIR/qemu-system-x86_64" --version | head -n1)"
}

# An explicit list rather than `meson install`, which would first build
# QEMU's whole tree (tests, contrib, every tool): we ship what we name.
do_install() {
    local root=$DESTDIR$PREFIX
    stage install "into $root"
    [ -x "$OBJ_DIR/qemu-system-x86_64" ] || die "nothing to install: run 'make' first"
    install -d "$root/bin" "$root/share/qemu/keymaps"
    install -m 0755 "$OBJ_DIR/qemu-system-x86_64" "$OBJ_DIR/qemu-img" "$root/bin/"
    # QEMU finds its data dir relative to the binary (share/qemu next to bin/).
    find "$SRC_DIR/pc-bios/keymaps" -maxdepth 1 -type f ! -name meson.build -exec install -m 0644 {} "$root/share/qemu/keymaps/" \;
    if [ -d "$TOP/hw-cloak/profiles" ]; then
        install -d "$root/share/qemu-cloak/profiles"
        install -m 0644 "$TOP"/hw-cloak/profiles/*.conf "$root/share/qemu-cloak/profiles/"
    fi
    install -d "$root/share/man/man1" "$root/share/man/man7" "$root/share/doc/qemu-cloak"
    install -m 0644 "$TOP"/docs/man/*.1 "$root/share/man/man1/"
    install -m 0644 "$TOP"/docs/man/*.7 "$root/share/man/man7/"
    install -m 0644 "$TOP/README.md" "$TOP"/docs/*.md "$root/share/doc/qemu-cloak/"
    make -C "$TOP" --no-print-directory install-tools PREFIX="$PREFIX" DESTDIR="$DESTDIR"
    info "installed $root/bin/qemu-system-x86_64 ($("$root/bin/qemu-system-x86_64" --version | head -n1))"
}

main() {
    [ $# -gt 0 ] || set -- all
    local s
    for s in "$@"; do
        case $s in
        deps|deps-check|fetch|prepare|check-series|configure|build|install|all) ;;
        *) die "unknown stage '$s' (stages: deps deps-check fetch prepare check-series configure build install all)" ;;
        esac
    done
    for s in "$@"; do
        case $s in
        deps) do_deps install ;;
        deps-check) do_deps check ;;
        fetch) do_fetch; do_unpack; info "pristine tree: $PRISTINE" ;;
        prepare) do_fetch; do_unpack; do_prepare ;;
        check-series) do_fetch; do_unpack; do_check_series ;;
        configure) do_configure ;;
        build) do_build ;;
        install) do_install ;;
        all) do_deps check; do_fetch; do_unpack; do_prepare; do_configure; do_build ;;
        *) die "unknown stage '$s' (stages: deps deps-check fetch prepare check-series configure build install all)" ;;
        esac
    done
}

main "$@"
