#!/usr/bin/env bash
# qemu-cloak firmware: cleaned SeaBIOS images and -kernel option ROMs.
#
#   build-firmware.sh fetch     obtain Debian's seabios source (pinned, verified)
#   build-firmware.sh build     patch a copy, build every image in images.conf
#                               and the option ROMs; skipped when up to date
#   build-firmware.sh all       fetch build (the default)
#   build-firmware.sh install   copy the images to $DESTDIR$PREFIX/share/qemu-cloak/firmware
#
# Output: $BUILD_DIR/firmware/cloak-<stock name> for each image, e.g.
# cloak-bios-256k.bin, which the patched QEMU loads in place of the stock
# file while the cloak is on (hw-cloak/cloak-firmware.c).  The pristine
# source lives in the shared cache and is never modified.
#
# Settings from the environment (the Makefile exports them): BUILD_DIR,
# QEMU_CLOAK_CACHE, JOBS, PYTHON, PREFIX, DESTDIR; QEMU_SRC is the prepared
# QEMU tree whose pc-bios/optionrom we build (default $BUILD_DIR/qemu-src).
# The tests point FIRMWARE_CONF_DIR (images.conf, bios.config,
# vgabios.config) and SEABIOS_SERIES_DIR elsewhere.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# shellcheck source=SCRIPTDIR/seabios.conf
. "$HERE/seabios.conf"

BUILD_DIR=${BUILD_DIR:-$TOP/build}
QEMU_CLOAK_CACHE=${QEMU_CLOAK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-cloak}
QEMU_SRC=${QEMU_SRC:-$BUILD_DIR/qemu-src}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-/usr/bin/python3}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SERIES_DIR=${SEABIOS_SERIES_DIR:-$TOP/patches/seabios-$SEABIOS_VERSION}
CONF_DIR=${FIRMWARE_CONF_DIR:-$HERE}
OUT=$BUILD_DIR/firmware
TARBALL_DIR=$QEMU_CLOAK_CACHE/tarballs
PRISTINE_ROOT=$QEMU_CLOAK_CACHE/pristine
PREFIX_NAME=cloak-
# The option ROMs QEMU loads for -kernel boots (hw/i386/x86-common.c,
# multiboot.c); SeaBIOS copies them to the guest's 0xC0000 region.
OPTION_ROMS=(linuxboot.bin linuxboot_dma.bin multiboot.bin multiboot_dma.bin pvh.bin)

stage() { printf '\n==> [firmware %s] %s\n' "$1" "$2"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'build-firmware.sh: error: %s\n' "$*" >&2; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

source_files() {
    printf '%s %s\n' \
        "$SEABIOS_DSC" "$SEABIOS_DSC_SHA256" \
        "$SEABIOS_ORIG" "$SEABIOS_ORIG_SHA256" \
        "$SEABIOS_DEBIAN_TAR" "$SEABIOS_DEBIAN_TAR_SHA256"
}

# ---------------------------------------------------------------- fetch

# The SHA-256 apt's Sources index gives for file $1 of the pinned version,
# or nothing (apt-cache fails when it knows no such source package).
sources_index_sha256() {
    "$TOP/scripts/apt-source-sha256" "$SEABIOS_SOURCE_PACKAGE" \
        "$SEABIOS_DEBIAN_VERSION" "$1"
}

cached_source_ok() {
    local f want
    while read -r f want; do
        [ -f "$TARBALL_DIR/$f" ] || return 1
        [ "$(sha256_of "$TARBALL_DIR/$f")" = "$want" ] ||
            die "cached $TARBALL_DIR/$f is corrupt (SHA-256 $(sha256_of "$TARBALL_DIR/$f"), want $want); delete it and re-run"
    done < <(source_files)
}

do_fetch() {
    local f want idx tmp got
    stage fetch "Debian $SEABIOS_SOURCE_PACKAGE $SEABIOS_DEBIAN_VERSION source ($SEABIOS_SUITE)"
    mkdir -p "$TARBALL_DIR"
    if cached_source_ok; then
        info "cached in $TARBALL_DIR, SHA-256 verified against firmware/seabios.conf"
        return
    fi
    if [ -z "$(sources_index_sha256 "$SEABIOS_DSC")" ] && [ "$(id -u)" = 0 ]; then
        apt-get update -qq || true
    fi
    while read -r f want; do
        idx=$(sources_index_sha256 "$f")
        [ -n "$idx" ] || die "apt knows no source package $SEABIOS_SOURCE_PACKAGE=$SEABIOS_DEBIAN_VERSION (file $f): a 'deb-src' entry for $SEABIOS_SUITE is needed, e.g. in /etc/apt/sources.list.d/qemu-cloak.sources (Types: deb-src, Suites: $SEABIOS_SUITE), then apt-get update"
        [ "$idx" = "$want" ] || die "the Sources index gives SHA-256 $idx for $f, but firmware/seabios.conf pins $want"
    done < <(source_files)
    tmp=$(mktemp -d "$TARBALL_DIR/.fetch-seabios.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    info "apt-get source --download-only $SEABIOS_SOURCE_PACKAGE=$SEABIOS_DEBIAN_VERSION"
    if ! (cd "$tmp" && apt-get source -qq --download-only \
            "$SEABIOS_SOURCE_PACKAGE=$SEABIOS_DEBIAN_VERSION" > apt.log 2>&1); then
        sed 's/^/    | /' "$tmp/apt.log" >&2
        die "apt-get source $SEABIOS_SOURCE_PACKAGE=$SEABIOS_DEBIAN_VERSION failed"
    fi
    while read -r f want; do
        [ -f "$tmp/$f" ] || die "apt-get source did not deliver $f"
        got=$(sha256_of "$tmp/$f")
        [ "$got" = "$want" ] || die "checksum mismatch for downloaded $f: got $got, want $want"
    done < <(source_files)
    while read -r f want; do
        mv "$tmp/$f" "$TARBALL_DIR/$f"
    done < <(source_files)
    rm -rf "$tmp"
    trap - EXIT
    info "downloaded to $TARBALL_DIR, SHA-256 verified against the Sources index and firmware/seabios.conf"
}

# Unpacks the source package once into the cache (dpkg-source applies
# Debian's own patches and checks the files against the .dsc); sets PRISTINE.
do_unpack() {
    local dir=$PRISTINE_ROOT/seabios-$SEABIOS_DSC_SHA256 tmp
    PRISTINE=$dir/seabios-$SEABIOS_VERSION
    [ -f "$dir/.complete" ] && return
    command -v dpkg-source >/dev/null || die "dpkg-source is missing (apt-get install dpkg-dev)"
    info "unpacking $SEABIOS_DSC"
    mkdir -p "$PRISTINE_ROOT"
    rm -rf "$dir"
    tmp=$(mktemp -d "$PRISTINE_ROOT/.unpack-seabios.XXXXXX")
    if ! dpkg-source --no-copy -x "$TARBALL_DIR/$SEABIOS_DSC" \
            "$tmp/seabios-$SEABIOS_VERSION" > "$tmp/unpack.log" 2>&1; then
        sed 's/^/    | /' "$tmp/unpack.log" >&2
        rm -rf "$tmp"
        die "dpkg-source cannot unpack $SEABIOS_DSC"
    fi
    [ "$(cat "$tmp/seabios-$SEABIOS_VERSION/.version" 2>/dev/null)" = "$SEABIOS_VERSION" ] ||
        { rm -rf "$tmp"; die "$SEABIOS_DSC does not unpack to SeaBIOS $SEABIOS_VERSION"; }
    touch "$tmp/.complete"
    mv "$tmp" "$dir"
}

# ---------------------------------------------------------------- build

series_patches() {
    [ -f "$SERIES_DIR/series" ] || die "no series file at $SERIES_DIR/series"
    grep -v -e '^#' -e '^[[:space:]]*$' "$SERIES_DIR/series"
}

# Applies our series to tree $1 (scripts/apply-series, shared with build.sh).
apply_series() {
    "$TOP/scripts/apply-series" "$SERIES_DIR" "$1" "SeaBIOS $SEABIOS_DEBIAN_VERSION" >/dev/null || exit 1
}

images() { grep -v -e '^#' -e '^[[:space:]]*$' "$CONF_DIR/images.conf"; }

# Everything the output depends on; a change rebuilds all of it.
inputs_stamp() {
    {
        cat "$HERE/seabios.conf" "$CONF_DIR/images.conf" "$CONF_DIR/bios.config" \
            "$CONF_DIR/vgabios.config" "$HERE/build-firmware.sh" "$SERIES_DIR/series"
        series_patches | while read -r p; do cat "$SERIES_DIR/$p"; done
        cat "$QEMU_SRC/pc-bios/optionrom/"*.[chS] "$QEMU_SRC/pc-bios/optionrom/Makefile" \
            "$QEMU_SRC/pc-bios/optionrom/flat.lds" 2>/dev/null
    } | sha256sum | cut -d' ' -f1
}

outputs() {
    local name target settings r
    while read -r name target settings; do
        echo "$OUT/$PREFIX_NAME$name"
    done < <(images)
    for r in "${OPTION_ROMS[@]}"; do
        echo "$OUT/$PREFIX_NAME$r"
    done
}

up_to_date() {
    local f
    [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$(inputs_stamp)" ] || return 1
    while read -r f; do
        [ -f "$f" ] || return 1
    done < <(outputs)
}

# Checks that every setting requested in file $1 is in the resolved
# .config $2: Kconfig silently drops an option whose dependencies fail.
check_config() {
    local want=$1 have=$2 line key value
    while read -r line; do
        case $line in ''|'#'*) continue ;; esac
        key=${line%%=*}
        value=${line#*=}
        if [ "$value" = n ]; then
            if grep -q "^$key=" "$have"; then
                die "$(basename "$(dirname "$have")"): $key is still set ($(grep "^$key=" "$have")); wanted off"
            fi
        elif ! grep -qxF "$line" "$have"; then
            die "$(basename "$(dirname "$have")"): Kconfig did not keep '$line' (now: $(grep "^$key=" "$have" || echo unset)); check its dependencies in src/Kconfig"
        fi
    done < "$want"
}

# Builds one image like Debian's build-bios rule: a .config from the
# settings, oldnoconfig, then the target in its own output directory.
build_image() {
    local name=$1 target=$2 settings=$3 s want
    local dir=$OUT/seabios-build/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    want=$dir/requested.config
    {
        cat "$CONF_DIR/$target.config"
        [ "$target" = vgabios ] && echo "CONFIG_BUILD_VGABIOS=y"
        for s in $settings; do echo "CONFIG_$s"; done
    } > "$want"
    cp "$want" "$dir/.config"
    make -s -C "$SRC" PYTHON="$PYTHON -B" KCONFIG_CONFIG="$dir/.config" \
        OUT="$dir/" oldnoconfig > "$dir/config.log" 2>&1 ||
        { sed 's/^/    | /' "$dir/config.log" >&2; die "$name: make oldnoconfig failed"; }
    check_config "$want" "$dir/.config"
    # A non-empty EXTRAVERSION with .version present keeps the build's
    # host name and time out of the version string (scripts/buildversion.py).
    if ! make -C "$SRC" -j"$JOBS" PYTHON="$PYTHON -B" KCONFIG_CONFIG="$dir/.config" \
            OUT="$dir/" EXTRAVERSION="-debian-$SEABIOS_DEBIAN_VERSION" \
            "$dir/$target.bin" > "$dir/build.log" 2>&1; then
        tail -n 30 "$dir/build.log" | sed 's/^/    | /' >&2
        die "$name: SeaBIOS build failed (log: $dir/build.log)"
    fi
    cp "$dir/$target.bin" "$OUT/$PREFIX_NAME$name"
    info "$PREFIX_NAME$name ($(stat -c %s "$OUT/$PREFIX_NAME$name") bytes)"
}

# QEMU's -kernel option ROMs, from the prepared QEMU tree, with an empty
# PnP manufacturer in place of "QEMU" (patches/qemu-10.0.2/0071).
build_option_roms() {
    local dir=$OUT/optionrom-build r
    [ -f "$QEMU_SRC/pc-bios/optionrom/Makefile" ] ||
        die "no QEMU tree at $QEMU_SRC (run ./build.sh prepare first, or set QEMU_SRC)"
    grep -q BOOT_ROM_MANUFACTURER "$QEMU_SRC/pc-bios/optionrom/optionrom.h" ||
        die "$QEMU_SRC lacks patch 0071 (BOOT_ROM_MANUFACTURER); re-run ./build.sh prepare"
    rm -rf "$dir"
    mkdir -p "$dir"
    cat > "$dir/config.mak" <<EOF
TOPSRC_DIR=$QEMU_SRC
CC=${CC:-cc}
CCAS=${CC:-cc}
OBJCOPY=objcopy
PYTHON=$PYTHON
EXTRA_CFLAGS=-DBOOT_ROM_MANUFACTURER=\\"\\"
EOF
    if ! make -C "$dir" -f "$QEMU_SRC/pc-bios/optionrom/Makefile" "${OPTION_ROMS[@]}" \
            > "$dir/build.log" 2>&1; then
        tail -n 30 "$dir/build.log" | sed 's/^/    | /' >&2
        die "option ROM build failed (log: $dir/build.log)"
    fi
    for r in "${OPTION_ROMS[@]}"; do
        cp "$dir/$r" "$OUT/$PREFIX_NAME$r"
    done
    info "option ROMs: ${OPTION_ROMS[*]}"
}

do_build() {
    local start name target settings
    stage build "cleaned images in $OUT"
    if up_to_date; then
        info "up to date ($(outputs | wc -l) files)"
        return
    fi
    start=$(date +%s)
    do_unpack
    SRC=$OUT/seabios-src
    rm -rf "$SRC" "$OUT/seabios-build" "$OUT/.stamp"
    mkdir -p "$OUT"
    # cp -a keeps Debian's mtimes, so make does not regenerate the shipped
    # .hex files (that would need iasl).
    cp -a "$PRISTINE" "$SRC"
    apply_series "$SRC"
    info "applied $(series_patches | wc -l) patches from patches/seabios-$SEABIOS_VERSION"
    while read -r name target settings; do
        case $target in
        bios|vgabios) ;;
        *) die "images.conf: $name: unknown target '$target' (bios or vgabios)" ;;
        esac
        build_image "$name" "$target" "$settings"
    done < <(images)
    build_option_roms
    inputs_stamp > "$OUT/.stamp"
    echo "$(( $(date +%s) - start ))" > "$OUT/build-seconds"
    info "firmware built in $(cat "$OUT/build-seconds") s (-j$JOBS)"
}

do_install() {
    local dest=$DESTDIR$PREFIX/share/qemu-cloak/firmware f
    stage install "into $dest"
    up_to_date || die "the firmware is not built or out of date (make firmware)"
    mkdir -p "$dest"
    while read -r f; do
        install -m 0644 "$f" "$dest/"
    done < <(outputs)
    info "installed $(outputs | wc -l) files"
}

main() {
    [ $# -gt 0 ] || set -- all
    local s
    for s in "$@"; do
        case $s in
        fetch) do_fetch ;;
        build) do_build ;;
        all) do_fetch; do_build ;;
        install) do_install ;;
        *) die "unknown stage '$s' (fetch, build, all, install)" ;;
        esac
    done
}

main "$@"
