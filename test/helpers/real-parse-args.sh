#!/usr/bin/env bash
# Run the REAL nixos-anywhere.sh argument parser (its globals and parseArgs(), cut out of the
# unmodified script) on our argv and print what it understood, one `name=value` per line.
# Usage: real-parse-args.sh PATH/TO/nixos-anywhere.sh ARGS…
set -euo pipefail
src=$1
shift
# shellcheck disable=SC1090
source <(
  sed -n '/^flake=""/,/^breakpoint() {/p' "$src" | sed '$d' | grep -v '^trap '
  sed -n '/^showUsage() {/,/^}/p;/^abort() {/,/^}/p;/^step() {/,/^}/p;/^parseArgs() {/,/^}/p' "$src"
)
parseArgs "$@"
printf 'flake=%s\n' "$flake"
printf 'flakeAttr=%s\n' "$flakeAttr"
printf 'sshConnection=%s\n' "$sshConnection"
printf 'sshArgs=%s\n' "${sshArgs[*]:8}" # after the script's own eight
printf 'diskoScript=%s\n' "$diskoScript"
printf 'nixosSystem=%s\n' "$nixosSystem"
printf 'diskoAttr=%s\n' "$diskoAttr"
printf 'extraFiles=%s\n' "$extraFiles"
printf 'copyHostKeys=%s\n' "${copyHostKeys-n}"
printf 'postKexecSshPort=%s\n' "$postKexecSshPort"
printf 'envPassword=%s\n' "$envPassword"
printf 'buildOn=%s\n' "$buildOn"
printf 'debug=%s\n' "$enableDebug"
printf 'kexecUrl=%s\n' "$kexecUrl"
printf 'nixCopyOptions=%s\n' "${nixCopyOptions[*]-}"
for p in kexec disko install reboot; do printf 'phase.%s=%s\n' "$p" "${phases[$p]}"; done
for k in "${!diskEncryptionKeys[@]}"; do printf 'diskKey=%s %s\n' "$k" "${diskEncryptionKeys[$k]}"; done
rm -rf "$tempDir"
