#!/bin/sh
# Copy what the broker needs out of a `linkage pki init` folder into DEST, laid out as
# compose.yaml and linkage-broker.service expect it, and give the private keys to the
# broker's user:
#
#   deploy/broker-files.sh PKI_DIR DEST [OWNER]       (OWNER default 10001:10001, the image's user)
#
#   DEST/tls/       ca.crt broker.crt broker.key crl.pem probe.crt probe.key
#   DEST/secrets/   data.key receipt.key log.key      (systemd credentials / compose secrets)
#   DEST/policy/    policy.toml                       (kept if present, else deploy/policy.toml)
#
# Nothing else leaves PKI_DIR: not the CA's key, not the organisations' keys. Private keys are
# mode 0600 (the broker refuses anything looser, so a shared group cannot replace ownership).
# Run it as root to set the owner; otherwise it prints the chown to run.
set -eu

usage="usage: deploy/broker-files.sh PKI_DIR DEST [OWNER]"
pki=${1:?$usage}
dest=${2:?$usage}
owner=${3:-10001:10001}
here=$(dirname "$0")

for file in ca.crt broker.crt broker.key crl.pem probe.crt probe.key data.key receipt.key log.key; do
    if [ ! -f "$pki/$file" ]; then
        case $file in
            probe.*) hint="make it with: linkage pki issue $pki probe" ;;
            crl.pem) hint="linkage pki init writes it; with a real CA, put the CA's current CRL there" ;;
            *) hint="run: linkage pki init $pki" ;;
        esac
        echo "broker-files.sh: $pki/$file is missing; $hint" >&2
        exit 1
    fi
done

install -d -m 0755 "$dest/tls" "$dest/policy"
install -d -m 0700 "$dest/secrets"
install -m 0644 "$pki/ca.crt" "$pki/broker.crt" "$pki/crl.pem" "$pki/probe.crt" "$dest/tls/"
install -m 0600 "$pki/broker.key" "$pki/probe.key" "$dest/tls/"
install -m 0600 "$pki/data.key" "$pki/receipt.key" "$pki/log.key" "$dest/secrets/"
if [ ! -e "$dest/policy/policy.toml" ]; then
    install -m 0644 "$here/policy.toml" "$dest/policy/policy.toml"
fi

keys="$dest/tls/broker.key $dest/tls/probe.key $dest/secrets $dest/secrets/data.key $dest/secrets/receipt.key $dest/secrets/log.key"
if [ "$(id -u)" = 0 ]; then
    # shellcheck disable=SC2086 # word splitting of $keys is intended
    chown "$owner" $keys
    echo "wrote $dest (tls/, secrets/, policy/); private keys owned by $owner"
else
    echo "wrote $dest (tls/, secrets/, policy/). Give the private keys to the broker's user:"
    echo "  sudo chown $owner $keys"
fi
