# nixos-bootstrap hardware probe. POSIX sh (dash, bash, busybox ash); sent on stdin to `sh -s`.
# Output: "@@nb-probe section NAME" headers, each followed by that section's lines, read independently
# by src/probe/parse.ts. Lines starting with "!" are diagnostics (a missing tool, a failed command)
# that degrade one field. The script never stops early and always exits 0.
# Everything runs inside main(), which the shell parses completely before running, with stdin from
# /dev/null: no command can swallow the rest of the script from stdin.

main() {
export LC_ALL=C
# Non-login shells of ordinary users often lack the sbin directories; append so test shims stay first.
PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin"
export PATH

section() { printf '@@nb-probe section %s\n' "$1"; }
has() { command -v "$1" >/dev/null 2>&1; }
# kv KEY FILE: print KEY=first line of FILE when it is readable (the read builtin forks nothing).
kv() {
  [ -r "$2" ] || return 0
  _v=
  IFS= read -r _v <"$2" 2>/dev/null || [ -n "$_v" ] || return 0
  printf '%s=%s\n' "$1" "$_v"
}
# link KEY PATH: print KEY=basename of the symlink's target.
link() {
  [ -L "$2" ] || return 0
  _t=$(readlink "$2" 2>/dev/null) || return 0
  printf '%s=%s\n' "$1" "${_t##*/}"
}
# run NAME CMD...: run a command, report a missing tool or a failure as a diagnostic line.
run() {
  _n=$1; shift
  if ! has "$1"; then printf '!missing %s\n' "$1"; return 1; fi
  "$@" 2>/dev/null
  _rc=$?
  [ "$_rc" -eq 0 ] || printf '\n!failed %s %s\n' "$_n" "$_rc"
  return "$_rc"
}

printf '@@nb-probe v1\n'

section system
printf 'machine=%s\n' "$(uname -m 2>/dev/null)"
printf 'kernel=%s\n' "$(uname -r 2>/dev/null)"
printf 'os=%s\n' "$(uname -s 2>/dev/null)"
_h=
[ -r /proc/sys/kernel/hostname ] && IFS= read -r _h </proc/sys/kernel/hostname
[ -n "$_h" ] || _h=$(uname -n 2>/dev/null)
printf 'hostname=%s\n' "$_h"

section firmware
if [ -d /sys/firmware/efi ]; then echo 'efi=1'; else echo 'efi=0'; fi
[ -d /sys/firmware/efi/efivars ] && echo 'efivars=1'
kv platform_size /sys/firmware/efi/fw_platform_size

section virt
if has systemd-detect-virt; then
  _virt=$(systemd-detect-virt 2>/dev/null)
  printf 'detect_virt=%s\n' "${_virt:-none}"
else
  echo '!missing systemd-detect-virt'
fi
grep -q '^flags.* hypervisor' /proc/cpuinfo 2>/dev/null && echo 'hypervisor_flag=1'
[ -d /proc/xen ] && echo 'xen=1'
kv hypervisor_type /sys/hypervisor/type

section cpu
if [ -r /proc/cpuinfo ]; then
  printf 'processors=%s\n' "$(grep -c '^processor' /proc/cpuinfo 2>/dev/null)"
  # The first processor block carries every field we read; the rest repeat it per core.
  sed -n '/^[[:space:]]*$/q;p' /proc/cpuinfo 2>/dev/null
  grep -E '^(Hardware|Model)[[:space:]]*:' /proc/cpuinfo 2>/dev/null
else
  echo '!missing /proc/cpuinfo'
fi

section memory
grep -E '^(MemTotal|SwapTotal):' /proc/meminfo 2>/dev/null || echo '!missing /proc/meminfo'

section dmi
_d=/sys/class/dmi/id
if [ -d "$_d" ]; then
  for _f in sys_vendor product_name product_version product_family board_vendor board_name chassis_type chassis_vendor bios_vendor bios_version; do
    kv "$_f" "$_d/$_f"
  done
else
  echo '!missing /sys/class/dmi/id'
fi

section lsblk
if has lsblk; then
  lsblk -J -b -o NAME,SIZE,TYPE,ROTA,RM,RO,TRAN,MODEL,SERIAL,PATH,FSTYPE,MOUNTPOINT </dev/null 2>/dev/null ||
    run lsblk lsblk -J -b -o NAME,SIZE,TYPE,ROTA,RM,RO,TRAN,MODEL,SERIAL,FSTYPE,MOUNTPOINT </dev/null
else
  echo '!missing lsblk'
fi

# /sys/block: the fallback for lsblk, and the controller chain of every disk.
section sysblock
for _b in /sys/block/*; do
  [ -e "$_b" ] || continue
  _n=${_b##*/}
  # Virtual and optical devices are no install targets and have no controller chain worth reading.
  case $_n in loop*|ram*|zram*|dm-*|md*|nbd*|sr*|fd*) continue ;; esac
  printf -- '- %s\n' "$_n"
  kv size "$_b/size"
  kv removable "$_b/removable"
  kv ro "$_b/ro"
  kv rotational "$_b/queue/rotational"
  kv model "$_b/device/model"
  kv serial "$_b/device/serial"
  kv vserial "$_b/serial"
  kv wwid "$_b/device/wwid"
  kv wwid "$_b/wwid"
  kv dev "$_b/dev"
  for _p in "$_b/$_n"*; do
    [ -e "$_p/partition" ] || continue
    printf 'part=%s ' "${_p##*/}"
    kv size "$_p/size"
  done
  _real=$(readlink -f "$_b/device" 2>/dev/null)
  [ -n "$_real" ] && printf 'devpath=%s\n' "$_real"
  # Walk from the disk's device up to /sys/devices; every bound driver on the way is needed in initrd.
  while [ -n "$_real" ] && [ "$_real" != /sys/devices ] && [ "$_real" != / ]; do
    if [ -L "$_real/driver" ]; then
      _drv=$(readlink "$_real/driver" 2>/dev/null); _drv=${_drv##*/}
      _mod=
      [ -L "$_real/driver/module" ] && { _mod=$(readlink "$_real/driver/module" 2>/dev/null); _mod=${_mod##*/}; }
      printf 'chain=%s %s %s\n' "${_real##*/}" "$_drv" "${_mod:--}"
    fi
    _real=${_real%/*}
  done
done

section disk-by-id
ls -l /dev/disk/by-id/ 2>/dev/null || echo '!missing /dev/disk/by-id'

section disk-by-path
ls -l /dev/disk/by-path/ 2>/dev/null || echo '!missing /dev/disk/by-path'

section pci
if [ -d /sys/bus/pci/devices ]; then
  for _p in /sys/bus/pci/devices/*; do
    [ -e "$_p" ] || continue
    printf -- '- %s\n' "${_p##*/}"
    kv class "$_p/class"
    kv vendor "$_p/vendor"
    kv device "$_p/device"
    kv subsystem_vendor "$_p/subsystem_vendor"
    kv subsystem_device "$_p/subsystem_device"
    link driver "$_p/driver"
    link module "$_p/driver/module"
  done
else
  echo '!missing /sys/bus/pci'
fi

# USB root hubs: the driver of their parent is the host controller (xhci_pci, ehci_pci, dwc3, …).
section usb
for _u in /sys/bus/usb/devices/usb*; do
  [ -e "$_u" ] || continue
  _c=$(readlink -f "$_u/.." 2>/dev/null) || continue
  printf -- '- %s\n' "${_u##*/}"
  link driver "$_c/driver"
  link module "$_c/driver/module"
done

# USB interfaces a machine may boot or unlock through (nixos-generate-config adds their drivers to
# the initrd): mass storage (class 08: usb_storage, uas), keyboards (03/01: usbhid), and Realtek
# USB card readers (vendor class, rtsx_usb).
section usb-interfaces
for _u in /sys/bus/usb/devices/*:*; do
  [ -e "$_u" ] || continue
  printf -- '- %s\n' "${_u##*/}"
  kv class "$_u/bInterfaceClass"
  kv protocol "$_u/bInterfaceProtocol"
  link module "$_u/driver/module"
done

section net
for _i in /sys/class/net/*; do
  [ -e "$_i" ] || continue
  printf -- '- %s\n' "${_i##*/}"
  kv mac "$_i/address"
  kv operstate "$_i/operstate"
  kv type "$_i/type"
  [ -e "$_i/wireless" ] || [ -e "$_i/phy80211" ] && echo 'wireless=1'
  [ -e "$_i/device" ] && echo 'physical=1'
  link driver "$_i/device/driver"
  link module "$_i/device/driver/module"
done

section addr
run ip ip -o addr show </dev/null

section route4
run route4 ip route show default </dev/null

section route6
run route6 ip -6 route show default </dev/null

section reach
# Whether the target can reach the internet over IPv4 at all (issue 20: a target without it cannot
# download upstream's kexec image from GitHub). Read from /proc/net/route: no tool needed (`ip` is
# missing on some rescue systems) and no packet sent. No connection to github.com is tried here:
# it would send traffic from every probe, and behind a firewall that drops it would add its whole
# time bound to every probe, for a fact only an install needs.
if [ -r /proc/net/route ]; then
  _r=0
  while read -r _if _dst _rest; do [ "$_dst" = 00000000 ] && _r=1; done </proc/net/route
  printf 'ipv4_default=%s\n' "$_r"
else
  echo '!missing /proc/net/route'
fi

section power
for _s in /sys/class/power_supply/*; do
  [ -e "$_s" ] || continue
  printf -- '- %s\n' "${_s##*/}"
  kv type "$_s/type"
  kv present "$_s/present"
  kv scope "$_s/scope"
done

section os-release
if [ -r /etc/os-release ]; then cat /etc/os-release 2>/dev/null
elif [ -r /usr/lib/os-release ]; then cat /usr/lib/os-release 2>/dev/null
else echo '!missing /etc/os-release'; fi

section os-markers
[ -e /etc/NIXOS ] && echo 'nixos=1'
[ -d /nix/.ro-store ] && echo 'ro_store=1'
[ -e /iso ] && echo 'iso=1'
[ -e /etc/nixos-installer ] && echo 'installer_marker=1'
grep -q 'nixos-installer\|root=LABEL=nixos-minimal\|findiso=' /proc/cmdline 2>/dev/null && echo 'installer_cmdline=1'
grep -q 'boot=live\|rescue' /proc/cmdline 2>/dev/null && echo 'rescue_cmdline=1'

section motd
[ -r /etc/motd ] && head -n 30 /etc/motd 2>/dev/null
[ -r /etc/issue ] && head -n 5 /etc/issue 2>/dev/null

section access
printf 'uid=%s\n' "$(id -u 2>/dev/null)"
printf 'user=%s\n' "$(id -un 2>/dev/null || whoami 2>/dev/null)"
if has sudo; then
  if sudo -n true </dev/null >/dev/null 2>&1; then echo 'sudo=passwordless'; else echo 'sudo=needs-password'; fi
else
  echo 'sudo=none'
fi

section tools
for _t in nixos-facter nix kexec tar cpio setsid lsblk; do
  if has "$_t"; then printf '%s=1\n' "$_t"; else printf '%s=0\n' "$_t"; fi
done

# nixos-facter needs root; as an ordinary user try passwordless sudo.
if has nixos-facter; then
  section facter
  _t=
  has timeout && _t='timeout 120'
  if [ "$(id -u 2>/dev/null)" = 0 ]; then
    $_t nixos-facter </dev/null 2>/dev/null || printf '\n!failed nixos-facter %s\n' "$?"
  elif has sudo && sudo -n true </dev/null >/dev/null 2>&1; then
    $_t sudo -n nixos-facter </dev/null 2>/dev/null || printf '\n!failed nixos-facter %s\n' "$?"
  else
    echo '!failed nixos-facter needs root or passwordless sudo'
  fi
fi

printf '@@nb-probe end\n'
}
main </dev/null
exit 0
