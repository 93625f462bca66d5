#!/bin/sh
# build-guest.sh OUTDIR: build the boot-test guest, OUTDIR/vmlinuz and
# OUTDIR/initrd.img, from Debian packages plus our own probe and /init.
#
# Downloaded .debs are cached in $QEMU_CLOAK_CACHE/guest-debs (default
# ~/.cache/qemu-cloak/guest-debs), so a rebuild needs no network.
# See docs/guest.md for what the image contains.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prog=build-guest.sh

die() {
    echo "$prog: error: $*" >&2
    exit 1
}

note() {
    echo "$prog: $*" >&2
}

[ $# -eq 1 ] || die "usage: $prog OUTDIR"
mkdir -p "$1"
out=$(cd "$1" && pwd)
cache=${QEMU_CLOAK_CACHE:-$HOME/.cache/qemu-cloak}/guest-debs
mkdir -p "$cache"
work=$out/work
pkgs=$work/pkgs
root=$work/root
rm -rf "$work"
mkdir -p "$pkgs" "$root"
manifest=$work/manifest
: > "$manifest"

CC=${CC:-cc}
for tool in apt-cache apt-get dpkg-deb objdump readelf "$CC" gzip; do
    command -v "$tool" > /dev/null || die "'$tool' is not installed (see mk/guest.packages)"
done

# Packages whose programs go into the image.  Their shared-library closure
# is found below from the ELF files themselves.
detector_pkgs="virt-what systemd dmidecode pciutils libpci3 pci.ids util-linux"

# Driver modules loaded by /init, with their dependencies.  A name that is
# built into this kernel is skipped; one that exists nowhere is an error.
guest_modules="
    qemu_fw_cfg
    e1000 e1000e
    virtio_pci virtio_net virtio_blk virtio_scsi
    libata libahci ahci ata_piix sd_mod sr_mod cdrom
    nvme
    button evdev
    battery ac fan
    uhci_hcd ehci_hcd ehci_pci ohci_hcd ohci_pci xhci_hcd xhci_pci
    usbhid hid_generic usb_storage
    psmouse virtio_input
    snd_hda_intel snd_hda_codec_generic
    bochs
"

# ---- Debian packages -------------------------------------------------------

# fetch PKG...: extract each PKG's candidate version into $pkgs/PKG,
# downloading the .debs that are not cached yet (one apt call per batch).
fetch() {
    apt-cache show --no-all-versions "$@" 2> /dev/null |
        awk '/^Package: / { p = $2 } /^Version: / { v = $2 }
             /^Architecture: / { a = $2 }
             /^$/ { if (p != "") print p, v, a; p = "" }
             END { if (p != "") print p, v, a }' > "$work/candidates"
    missing=
    for pkg in "$@"; do
        grep -q "^$pkg " "$work/candidates" ||
            die "apt knows no package '$pkg' (run apt-get update?)"
        read -r _ ver arch <<EOF
$(grep "^$pkg " "$work/candidates" | head -n 1)
EOF
        [ -s "$cache/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_$arch.deb" ] ||
            missing="$missing $pkg=$ver"
    done
    if [ -n "$missing" ]; then
        note "downloading$missing"
        # shellcheck disable=SC2086 # one word per package
        (cd "$cache" && apt-get download -q $missing > /dev/null 2> "$work/apt.err") ||
            note "warning: apt-get download failed: $(cat "$work/apt.err")"
    fi
    while read -r pkg ver arch; do
        [ -d "$pkgs/$pkg" ] && continue
        deb=$cache/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_$arch.deb
        if [ ! -s "$deb" ]; then
            # Offline with a newer apt list: fall back to a cached version.
            # shellcheck disable=SC2012 # package file names are plain
            deb=$(ls -t "$cache/${pkg}"_*_"$arch".deb 2> /dev/null | head -n 1)
            [ -n "$deb" ] || die "cannot download '$pkg' and no version is cached"
            note "warning: $pkg $ver is not available, using $(basename "$deb")"
        fi
        mkdir -p "$pkgs/$pkg"
        dpkg-deb -x "$deb" "$pkgs/$pkg" || die "cannot extract $deb"
        echo "package $(basename "$deb")" >> "$manifest"
    done < "$work/candidates"
}

# lib_deps PKG...: the Depends/Pre-Depends of the PKGs that are shared
# libraries (Debian section "libs"); of alternatives, the first one.
lib_deps() {
    deps=$(apt-cache depends --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances "$@" 2> /dev/null |
        awk '/^ *\|?(Pre)?Depends: / && !skip { print $2 }
             { skip = ($1 ~ /^\|/) }' |
        grep -v '^<' | sort -u)
    [ -n "$deps" ] || return 0
    # shellcheck disable=SC2086 # one word per package
    apt-cache show --no-all-versions $deps 2> /dev/null |
        awk '/^Package: / { pkg = $2 }
             /^Section: (libs|oldlibs)$/ { print pkg }' | sort -u
}

kernel_pkg=${GUEST_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2> /dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)}
[ -n "$kernel_pkg" ] ||
    die "cannot resolve linux-image-amd64 to a kernel package (apt-get update?)"

note "fetching $kernel_pkg, busybox-static, the detectors and their libraries"
todo="$kernel_pkg busybox-static $detector_pkgs"
seen=" "
while [ -n "$todo" ]; do
    new=
    for pkg in $todo; do
        case $seen in *" $pkg "*) continue ;; esac
        seen="$seen$pkg "
        new="$new $pkg"
    done
    [ -n "$new" ] || break
    # shellcheck disable=SC2086 # one word per package
    fetch $new
    # shellcheck disable=SC2086
    todo=$(lib_deps $new | tr '\n' ' ')
done

# ---- kernel and modules ----------------------------------------------------

kver=$(ls "$pkgs/$kernel_pkg/lib/modules")
if [ -z "$kver" ] || [ ! -f "$pkgs/$kernel_pkg/boot/vmlinuz-$kver" ]; then
    die "$kernel_pkg has no kernel image"
fi
kmods=$pkgs/$kernel_pkg/lib/modules/$kver
echo "kernel $kver" >> "$manifest"

# "name path" for every module; '-' and '_' are equivalent in names.
find "$kmods/kernel" -name '*.ko' |
    sed 's|^\(.*/\)\([^/]*\)\.ko$|\2 \1\2.ko|' |
    awk '{ gsub("-", "_", $1); print }' > "$work/ko-index"

# module_file NAME: the .ko of module NAME.
module_file() {
    awk -v want="$(echo "$1" | tr - _)" \
        '$1 == want { print $2; found = 1; exit } END { exit !found }' \
        "$work/ko-index"
}

# module_deps KO: the module names KO depends on, from its .modinfo strings.
module_deps() {
    tr '\0' '\n' < "$1" | sed -n 's/^depends=//p' | head -n 1 | tr , ' '
}

# add_module NAME: append NAME, after its dependencies, to the load order.
# A subshell, so that the recursion keeps each call's variables.
add_module() (
    name=$(echo "$1" | tr - _)
    grep -qx "$name" "$work/mod-order" && return 0
    if ! ko=$(module_file "$name"); then
        if tr - _ < "$kmods/modules.builtin" | grep -q "/$name\.ko$"; then
            echo "builtin $name" >> "$manifest"
            return 0
        fi
        die "kernel $kver has no module '$name'"
    fi
    for dep in $(module_deps "$ko"); do
        add_module "$dep"
    done
    mkdir -p "$root/lib/modules"
    cp "$ko" "$root/lib/modules/$name.ko"
    echo "$name" >> "$work/mod-order"
    echo "module $name" >> "$manifest"
)

: > "$work/mod-order"
note "kernel $kver: resolving modules"
mkdir -p "$root/usr/lib" "$root/usr/bin" "$root/usr/sbin" "$root/bin" \
    "$root/sbin" "$root/lib64" "$root/etc" "$root/proc" "$root/sys" \
    "$root/dev" "$root/tmp" "$root/run" "$root/root"
ln -s usr/lib "$root/lib"
for mod in $guest_modules; do
    add_module "$mod"
done
cp "$work/mod-order" "$root/etc/cloak-modules"
cp "$pkgs/$kernel_pkg/boot/vmlinuz-$kver" "$work/vmlinuz"

# ---- userland ----------------------------------------------------------------

cp "$pkgs/busybox-static/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    case $applet in busybox) continue ;; esac
    # Applets live in /bin and /sbin; the real tools below in /usr take
    # precedence on PATH.
    ln -s busybox "$root/bin/$applet"
done

# install PKG PATH: copy PATH from package PKG to the same place in the image.
install_file() {
    [ -e "$pkgs/$1/$2" ] || die "package $1 has no $2"
    mkdir -p "$root/$(dirname "$2")"
    cp -L "$pkgs/$1/$2" "$root/$2"
    echo "file $2 ($1)" >> "$manifest"
}

install_file virt-what usr/sbin/virt-what
install_file virt-what usr/libexec/virt-what-cpuid-helper
install_file systemd usr/bin/systemd-detect-virt
install_file dmidecode usr/sbin/dmidecode
install_file pciutils usr/bin/lspci
install_file pci.ids usr/share/misc/pci.ids
install_file util-linux usr/bin/lscpu

# ---- our own programs ----------------------------------------------------------

static_cflags="-static -O2 -Wall -Wextra -std=gnu11"
# shellcheck disable=SC2086 # several flags
"$CC" $static_cflags -o "$root/bin/cloak-probe" "$here/probe.c" ||
    die "cannot compile probe.c"
for src in "$here"/programs/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    [ -e "$root/bin/$name" ] &&
        die "programs/$name.c: /bin/$name already exists in the image"
    # shellcheck disable=SC2086
    "$CC" $static_cflags -o "$root/bin/$name" "$src" ||
        die "cannot compile programs/$name.c"
    echo "program $name" >> "$manifest"
done
# 32-bit programs: the entries (SYSENTER, compat SYSCALL) only 32-bit code
# reaches.  libc6-dev-i386 comes with gcc-multilib (mk/guest.packages).
for src in "$here"/programs32/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    [ -e "$root/bin/$name" ] &&
        die "programs32/$name.c: /bin/$name already exists in the image"
    # shellcheck disable=SC2086
    "$CC" -m32 $static_cflags -o "$root/bin/$name" "$src" ||
        die "cannot compile programs32/$name.c as 32-bit (is gcc-multilib installed? make deps)"
    echo "program $name (i386)" >> "$manifest"
done
cp "$here/init" "$root/init"
chmod 755 "$root/init"

# ---- shared libraries ----------------------------------------------------------

note "resolving shared libraries"
# Every dynamic ELF file in the image gets its NEEDED libraries from the
# extracted packages, at the path the package put them, until closed.
lib_dirs="lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu"

needed() {
    objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'
}

runpath() {
    objdump -p "$1" | awk '$1 == "RUNPATH" || $1 == "RPATH" { print $2 }' |
        tr : ' ' | sed 's|^/||; s| /| |g'
}

# find_lib SONAME DIRS: print "PKG DIR/SONAME" of the first match.
find_lib() {
    for dir in $2; do
        for p in "$pkgs"/*; do
            if [ -e "$p/$dir/$1" ]; then
                echo "$(basename "$p") $dir/$1"
                return 0
            fi
        done
    done
    return 1
}

is_dynamic_elf() {
    [ -f "$1" ] && [ ! -L "$1" ] && readelf -d "$1" > /dev/null 2>&1 &&
        readelf -d "$1" 2> /dev/null | grep -q NEEDED
}

interp=
queue=$(find "$root" -type f)
while [ -n "$queue" ]; do
    next=
    for f in $queue; do
        is_dynamic_elf "$f" || continue
        i=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
        [ -n "$i" ] && interp=$i
        for so in $(needed "$f"); do
            found=$(find_lib "$so" "$(runpath "$f") $lib_dirs") ||
                die "no package provides $so (needed by ${f#"$root"/})"
            read -r pkg path <<EOF
$found
EOF
            [ -e "$root/$path" ] && continue
            install_file "$pkg" "$path"
            next="$next $root/$path"
        done
    done
    queue=$next
done
if [ -n "$interp" ]; then
    found=$(find_lib "$(basename "$interp")" "$lib_dirs") ||
        die "no package provides the dynamic loader $interp"
    read -r pkg path <<EOF
$found
EOF
    [ -e "$root/$path" ] || install_file "$pkg" "$path"
    mkdir -p "$root$(dirname "$interp")"
    [ -e "$root$interp" ] || ln -s "/$path" "$root$interp"
fi

# ---- pack --------------------------------------------------------------------

# busybox's cpio, not the host's: the cpio package may be missing.
bb="$root/bin/busybox"
(cd "$root" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc) \
    > "$work/initrd.cpio" || die "cpio failed"
[ "$(stat -c %s "$work/initrd.cpio")" -gt 1000000 ] ||
    die "the initramfs archive is implausibly small"
gzip -9 -n < "$work/initrd.cpio" > "$work/initrd.img"
rm -f "$work/initrd.cpio"
# The extracted packages (mostly the kernel's modules) are large; the .debs
# stay cached.  $work/root is kept for inspection.
rm -rf "$pkgs"

mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/initrd.img" "$out/initrd.img"
cp "$manifest" "$out/manifest.txt"
note "built $out/vmlinuz ($kver) and $out/initrd.img" \
    "($(stat -c %s "$out/initrd.img") bytes)"
