# nixos-bootstrap health report. POSIX sh (dash, bash, busybox ash); sent on stdin to `sh -s`, after
# a line setting NB_KEY_FILES (newline-separated absolute paths of the key files bootstrap delivered).
# Output: "@@nb-health section NAME" headers, each followed by that section's lines, read
# independently by src/health/parse.ts. Lines starting with "!" are diagnostics (a missing tool).
# Every command is guarded: a missing tool leaves its section empty, the script never stops early and
# always exits 0. Network calls are bounded (curl --max-time 5). It reads; it changes nothing.
# Everything runs inside main(), parsed completely before it runs, with stdin from /dev/null.

main() {
export LC_ALL=C
PATH="${PATH:-/usr/bin:/bin}:/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH
export SYSTEMD_PAGER= SYSTEMD_COLORS=0

section() { printf '@@nb-health section %s\n' "$1"; }
has() { command -v "$1" >/dev/null 2>&1; }
missing() { printf '!missing %s\n' "$1"; }
# present PATH: "1" when the path exists (a symlink counts only when its target exists).
present() { if [ -e "$1" ]; then echo 1; else echo 0; fi; }

printf '@@nb-health v1\n'

section access
# Who runs this: root (logged in as root, or through `sudo -n` from the login user: SUDO_USER), or
# the login user without root, whose report says what it could not read (issue 18).
_uid=$(id -u 2>/dev/null)
printf 'uid=%s\n' "$_uid"
printf 'user=%s\n' "$(id -un 2>/dev/null)"
printf 'sudo_user=%s\n' "${SUDO_USER:-}"

section system
if has systemctl; then
  printf 'state=%s\n' "$(systemctl is-system-running 2>/dev/null)"
  systemctl list-units --failed --plain --no-legend --no-pager 2>/dev/null | while read -r _u _rest; do
    [ -n "$_u" ] && printf 'failed=%s\n' "$_u"
  done
else
  missing systemctl
fi
[ -r /proc/stat ] && sed -n 's/^btime \([0-9]*\)$/boot_epoch=\1/p' /proc/stat 2>/dev/null
printf 'now_epoch=%s\n' "$(date +%s 2>/dev/null)"
printf 'kernel=%s\n' "$(uname -r 2>/dev/null)"
_h=
[ -r /proc/sys/kernel/hostname ] && IFS= read -r _h </proc/sys/kernel/hostname
printf 'hostname=%s\n' "$_h"
if [ -r /etc/os-release ]; then
  sed -n -e 's/^ID="\{0,1\}\([^"]*\)"\{0,1\}$/os_id=\1/p' -e 's/^VARIANT_ID="\{0,1\}\([^"]*\)"\{0,1\}$/os_variant=\1/p' \
    -e 's/^VERSION_ID="\{0,1\}\([^"]*\)"\{0,1\}$/os_version=\1/p' /etc/os-release 2>/dev/null
fi
[ -e /run/current-system ] && printf 'current=%s\n' "$(readlink -f /run/current-system 2>/dev/null)"
[ -e /run/booted-system ] && printf 'booted=%s\n' "$(readlink -f /run/booted-system 2>/dev/null)"
if [ -L /nix/var/nix/profiles/system ]; then
  _pl=$(readlink /nix/var/nix/profiles/system 2>/dev/null)
  printf 'profile_link=%s\n' "$_pl"
  printf 'profile=%s\n' "$(readlink -f /nix/var/nix/profiles/system 2>/dev/null)"
  # When the current generation was made: its system-N-link's own mtime (status' drift, issue 21).
  case "$_pl" in /*) ;; *) _pl=/nix/var/nix/profiles/$_pl ;; esac
  [ -L "$_pl" ] && has stat && printf 'profile_epoch=%s\n' "$(stat -c %Y "$_pl" 2>/dev/null)"
fi
if [ -d /sys/firmware/efi ]; then echo 'efi=1'; else echo 'efi=0'; fi
# When the last activation ran: it ends by linking /run/current-system (nixpkgs
# nixos/modules/system/activation/activation-script.nix), so the link's own mtime is that moment.
[ -L /run/current-system ] && has stat && printf 'current_epoch=%s\n' "$(stat -c %Y /run/current-system 2>/dev/null)"
# Needs reboot: NixOS's auto-upgrade (nixos/modules/tasks/auto-upgrade.nix, allowReboot) reboots when
# the booted system's initrd, kernel or kernel-modules differ from the new one's.
for _s in booted current; do
  for _f in kernel initrd kernel-modules; do
    [ -e "/run/$_s-system/$_f" ] && printf 'bootfile=%s %s %s\n' "$_s" "$_f" "$(readlink -f "/run/$_s-system/$_f" 2>/dev/null)"
  done
done
# Specialisations of the default system: nixpkgs' top-level.nix links each at
# $toplevel/specialisation/NAME; switching to one makes it /run/current-system, the profile stays.
for _d in /nix/var/nix/profiles/system/specialisation/*; do
  [ -e "$_d" ] && printf 'specialisation=%s %s\n' "${_d##*/}" "$(readlink -f "$_d" 2>/dev/null)"
done
# system.configurationRevision: nixos-version (nixos/modules/installer/tools/nixos-version.sh) prints
# it for --configuration-revision, and exits 1 "configuration revision is unknown" when unset.
if [ -x /run/current-system/sw/bin/nixos-version ]; then
  _rev=$(/run/current-system/sw/bin/nixos-version --configuration-revision 2>/dev/null) && printf 'revision=%s\n' "$_rev"
fi

section upgrade
# system.autoUpgrade runs nixos-upgrade.service (nixpkgs nixos/modules/tasks/auto-upgrade.nix): its
# last result, for status' drift (issue 21). LoadState=not-found: the host has no auto-upgrade.
if has systemctl; then
  systemctl show nixos-upgrade.service -p LoadState -p Result -p ExecMainExitTimestamp -p ActiveState 2>/dev/null
fi

section mounts
# findmnt's raw output escapes blanks as \x20; /proc/self/mounts is the fallback (octal escapes).
if has findmnt; then
  echo 'format=findmnt'
  findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS 2>/dev/null
elif [ -r /proc/self/mounts ]; then
  echo 'format=proc'
  cat /proc/self/mounts 2>/dev/null
else
  missing findmnt
fi

section swaps
# util-linux swapon --show; busybox's swapon has no --show (it prints its usage, exit 1): then the
# kernel's own table, /proc/swaps (mm/swapfile.c swap_show: Filename Type Size(KiB) Used Priority).
if has swapon && _sw=$(swapon --show=NAME,TYPE,SIZE --noheadings --bytes --raw 2>/dev/null); then
  echo 'format=swapon'
  [ -n "$_sw" ] && printf '%s\n' "$_sw"
elif [ -r /proc/swaps ]; then
  echo 'format=proc'
  sed 1d /proc/swaps 2>/dev/null
else
  missing swapon
fi

section fstab
# What an automount (x-systemd.automount) mounts on first access: findmnt shows only "autofs" until
# then. NixOS writes fileSystems to /etc/fstab (device, mountpoint, type, options).
[ -r /etc/fstab ] && grep -v '^[[:space:]]*\(#\|$\)' /etc/fstab 2>/dev/null

section crypt
if has lsblk; then
  lsblk -rn -o NAME,TYPE 2>/dev/null | while read -r _n _t; do
    [ "$_t" = crypt ] && printf 'crypt=%s\n' "$_n"
  done
else
  for _d in /sys/block/dm-*; do
    [ -r "$_d/dm/uuid" ] || continue
    IFS= read -r _uuid <"$_d/dm/uuid" || true
    case "$_uuid" in CRYPT-*) IFS= read -r _name <"$_d/dm/name" && printf 'crypt=%s\n' "$_name" ;; esac
  done
fi

section space
if has df; then
  df -Pk / /nix /boot 2>/dev/null | sed 1d
else
  missing df
fi

section time
if has timedatectl; then
  timedatectl show -p NTP -p NTPSynchronized 2>/dev/null
else
  missing timedatectl
fi

section keyfiles
_old_ifs=$IFS
IFS='
'
for _k in ${NB_KEY_FILES:-}; do
  IFS=$_old_ifs
  printf -- '- %s\n' "$_k"
  if [ -e "$_k" ]; then
    echo 'present=1'
    if has stat; then printf 'mode=%s\n' "$(stat -L -c '%a' "$_k" 2>/dev/null)"; printf 'owner=%s\n' "$(stat -L -c '%U' "$_k" 2>/dev/null)"; fi
  else
    echo 'present=0'
    # Not root: a directory on the way it may not search hides the file; say so rather than "missing".
    if [ "$_uid" != 0 ]; then
      _p= _rest=${_k#/}
      while [ "${_rest#*/}" != "$_rest" ]; do
        _p="$_p/${_rest%%/*}"; _rest=${_rest#*/}
        [ -d "$_p" ] || break
        [ -x "$_p" ] || { echo 'searchable=0'; break; }
      done
    fi
  fi
done
IFS=$_old_ifs

section sops
# sops-nix: the activation script (or the sops-install-secrets units) call
# `sops-install-secrets [-ignore-passwd] /nix/store/…-manifest[-for-users].json`; the manifest lists
# each secret with its path, and symlinkPath (/run/secrets) points at the current generation.
_acts=
for _f in /run/current-system/activate /etc/systemd/system/sops-install-secrets.service /etc/systemd/system/sops-install-secrets-for-users.service; do
  [ -r "$_f" ] && _acts="$_acts $_f"
done
if [ -n "$_acts" ]; then
  # shellcheck disable=SC2086
  grep -ho '/nix/store/[0-9a-z]\{32\}-manifest\(-for-users\)\{0,1\}\.json' $_acts 2>/dev/null | sort -u | while read -r _m; do
    printf -- '- %s\n' "$_m"
    if [ -r "$_m" ]; then
      printf 'json=%s\n' "$(tr -d '\n' <"$_m" 2>/dev/null)"
      grep -o '"path":"[^"]*"' "$_m" 2>/dev/null | sed 's/^"path":"//; s/"$//' | while IFS= read -r _p; do
        printf 'path=%s %s\n' "$(present "$_p")" "$_p"
      done
      _s=$(grep -o '"symlinkPath":"[^"]*"' "$_m" 2>/dev/null | sed 's/^"symlinkPath":"//; s/"$//')
      [ -n "$_s" ] && [ -L "$_s" ] && printf 'symlink=%s\n' "$(readlink "$_s" 2>/dev/null)"
      # sops-install-secrets relinks symlinkPath (atomicSymlink) on every successful run and on no
      # failed one (main.go installSecrets: decrypt first, link last): the link's mtime is its last success.
      [ -n "$_s" ] && [ -L "$_s" ] && has stat && printf 'symlink_epoch=%s\n' "$(stat -c %Y "$_s" 2>/dev/null)"
    else
      echo 'json='
    fi
  done
fi

section agenix
# agenix (modules/age.nix): its install script (in the activation script, or the agenix-install-secrets
# unit with sysusers) sets _truePath and prints "decrypting 'SRC' to '$_truePath'..." per secret, then
# links a path other than SECRETSDIR/NAME with `[ "PATH" != "SECRETSDIR/NAME" ] && ln -sfn|-sfT
# "SECRETSDIR/NAME" "PATH"` (0.15.0 uses -sfn, main -sfT); SECRETSDIR links to the generation.
_ag=
if [ -r /run/current-system/activate ] && grep -q "decrypting '" /run/current-system/activate 2>/dev/null; then
  _ag=/run/current-system/activate
elif [ -r /etc/systemd/system/agenix-install-secrets.service ]; then
  _ag=$(sed -n 's/^ExecStart=//p' /etc/systemd/system/agenix-install-secrets.service 2>/dev/null | sed 's/^[@!+-]*//; s/ .*//' | head -n 1)
fi
if [ -n "$_ag" ] && [ -r "$_ag" ]; then
  printf 'script=%s\n' "$_ag"
  _dir=$(sed -n 's/^[[:space:]]*ln -sf[nT] "[^"]*\/\$_agenix_generation" \([^ ]*\)[[:space:]]*$/\1/p' "$_ag" 2>/dev/null | head -n 1)
  _dir=${_dir#\"}; _dir=${_dir%\"}
  _gen=
  if [ -n "$_dir" ]; then
    printf 'secrets_dir=%s\n' "$_dir"
    [ -L "$_dir" ] && _gen=$(readlink "$_dir" 2>/dev/null) && _gen=${_gen##*/} && printf 'generation=%s\n' "$_gen"
  fi
  sed -n -e 's/^[[:space:]]*_truePath="\(.*\)"[[:space:]]*$/T \1/p' \
    -e "s/^[[:space:]]*echo \"decrypting '\\([^']*\\)' to .*/D \\1/p" \
    -e '/\[ "\([^"]*\)" != "\1" \] && ln/d' -e 's/^.*\] && ln -sf[nT] "[^"]*" "\([^"]*\)"[[:space:]]*$/L \1/p' "$_ag" 2>/dev/null |
    sed "s/\\\$_agenix_generation/${_gen:-0}/g" | while read -r _kind _v; do
      case "$_kind" in
        T|L) printf '%s=%s %s\n' "$_kind" "$(present "$_v")" "$_v" ;;
        D) printf 'D=%s\n' "$_v" ;;
      esac
    done
fi

section cache
_conf=/etc/nix/nix.conf
# nix.conf with its includes in place: Nix (src/libutil/config.cc, applyConfig) reads `include PATH`
# and `!include PATH` (the latter silent when missing) relative to the including file's directory.
# A subshell per file keeps the recursion's variables apart; 8 levels stop a loop.
nixconf() (
  [ "$2" -gt 8 ] && exit 0
  _d=$(dirname "$1")
  while IFS= read -r _l || [ -n "$_l" ]; do
    set -f
    # shellcheck disable=SC2086
    set -- "$1" "$2" $_l
    set +f
    case "$3" in
      include|'!include')
        if [ $# -eq 4 ]; then
          case "$4" in /*) _i=$4 ;; *) _i=$_d/$4 ;; esac
          if [ -r "$_i" ]; then nixconf "$_i" $(($2 + 1)); elif [ "$3" = include ]; then printf '!include-missing %s\n' "$_i"; fi
          continue
        fi ;;
    esac
    printf '%s\n' "$_l"
  done <"$1"
)
if [ -r "$_conf" ]; then
  echo 'conf=1'
  _text=$(nixconf "$_conf" 0 2>/dev/null)
  printf '%s\n' "$_text" | sed -n 's/^!include-missing \(.*\)$/include_missing=\1/p'
  for _key in substituters trusted-public-keys netrc-file; do
    printf '%s\n' "$_text" | sed -n "s/^[[:space:]]*\\(extra-\\)\\{0,1\\}$_key[[:space:]]*=[[:space:]]*\\(.*\\)\$/$_key=\\2/p"
  done
  _netrc=$(printf '%s\n' "$_text" | sed -n 's/^[[:space:]]*netrc-file[[:space:]]*=[[:space:]]*\([^ ]*\).*$/\1/p' | tail -n 1)
  [ -n "$_netrc" ] || _netrc=/etc/nix/netrc
  printf 'netrc=%s %s\n' "$(present "$_netrc")" "$_netrc"
  # A netrc only root may read (sops-nix/agenix 0400): curl below goes without it when not root.
  if [ -e "$_netrc" ] && [ ! -r "$_netrc" ]; then echo 'netrc_readable=0'; fi
  if has curl; then
    _subs=$(printf '%s\n' "$_text" | sed -n 's/^[[:space:]]*\(extra-\)\{0,1\}substituters[[:space:]]*=[[:space:]]*\(.*\)$/\2/p')
    for _u in $_subs; do
      printf -- '- %s\n' "$_u"
      case "$_u" in
        http://*|https://*) ;;
        *) echo 'skipped=scheme'; continue ;;
      esac
      _b=${_u%%\?*}
      set --
      [ -r "$_netrc" ] && set -- --netrc-optional --netrc-file "$_netrc"
      _out=$(curl -sS -L --connect-timeout 3 --max-time 5 "$@" -w '\n@@http %{http_code}\n' "${_b%/}/nix-cache-info" 2>/dev/null)
      printf 'curl_exit=%s\n' "$?"
      printf '%s\n' "$_out" | sed -n -e 's/^@@http \([0-9]*\)$/http=\1/p' -e 's/^StoreDir:[[:space:]]*\(.*\)$/store_dir=\1/p'
    done
  else
    missing curl
  fi
else
  echo 'conf=0'
fi

section backups
# NixOS services.restic.backups.NAME makes restic-backups-NAME.service and, with a timerConfig, its timer.
if has systemctl; then
  systemctl list-timers --all --plain --no-legend --no-pager 'restic-backups-*' 2>/dev/null | grep -o 'restic-backups-[^ ]*\.timer' | sort -u | while read -r _t; do
    printf -- '- %s\n' "$_t"
    systemctl show -p ActiveState -p NextElapseUSecRealtime -p LastTriggerUSec "$_t" 2>/dev/null
    systemctl show -p ActiveState -p Result -p ExecMainStatus -p ExecMainExitTimestamp -p InvocationID "${_t%.timer}.service" 2>/dev/null | sed 's/^/service_/'
    # A reboot resets the service's Result (a fresh unit says "success"); only the timer's
    # LastTriggerUSec survives (Persistent=true stamp). The journal keeps the outcome: PID 1 logs
    # "Deactivated successfully." (MESSAGE_ID 7ad2d189…, SD_MESSAGE_UNIT_SUCCESS) or "Failed with result
    # 'R'." (d9b373ed…, SD_MESSAGE_UNIT_FAILURE_RESULT, field UNIT_RESULT) per run: systemd
    # src/systemd/sd-messages.h, src/core/unit.c unit_log_success / unit_log_failure.
    if has journalctl; then
      journalctl -q --no-pager -o json -n 1 --output-fields=MESSAGE_ID,UNIT_RESULT \
        "UNIT=${_t%.timer}.service" MESSAGE_ID=7ad2d189f7e94e70a38c781354912448 MESSAGE_ID=d9b373ed55a64feb8242e02dbe79a49c 2>/dev/null |
        sed -n '$s/^/journal=/p'
    fi
  done
else
  missing systemctl
fi

printf '@@nb-health end\n'
}

main </dev/null
exit 0
