#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Creates a self-signed TLS certificate for huddle whose names cover localhost and every IPv4
# address of this machine, so a phone on the same network can open https://<LAN address>:3443
# and use its camera (browsers only allow getUserMedia in secure contexts).
# Usage: scripts/make-cert.sh [DIR] [EXTRA_NAME...]   (default DIR: ./certs; needs openssl)
# Writes DIR/huddle.pem (private key + certificate: the ssl_certificate value) and DIR/huddle.crt
# (certificate only: the file to install on phones).
set -euo pipefail
DIR=${1:-certs}; shift || true
command -v openssl >/dev/null || { echo "make-cert: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$DIR"
san="DNS:localhost,IP:127.0.0.1"
host=$(hostname 2>/dev/null || true)
[ -n "$host" ] && san="$san,DNS:$host,DNS:$host.local"
addrs=$(hostname -I 2>/dev/null || ip -4 -o addr show 2>/dev/null | awk '{split($4,a,"/"); print a[1]}' || true)
for a in $addrs; do
  case "$a" in *:*|127.0.0.1) ;; *) san="$san,IP:$a" ;; esac
done
for n in "$@"; do
  if [[ $n =~ ^[0-9.]+$ ]]; then san="$san,IP:$n"; else san="$san,DNS:$n"; fi
done
umask 077
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 825 \
  -subj "/CN=huddle on ${host:-localhost}" \
  -addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:FALSE" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$DIR/huddle.key" -out "$DIR/huddle.crt" 2>/dev/null
cat "$DIR/huddle.key" "$DIR/huddle.crt" > "$DIR/huddle.pem"
rm -f "$DIR/huddle.key"
chmod 644 "$DIR/huddle.crt"
cat <<MSG
Created $DIR/huddle.pem (key + certificate) and $DIR/huddle.crt (certificate only).
Names: $san

Next:
  1. Add to huddle.conf:
       ssl_port = 3443
       ssl_certificate = $(cd "$DIR" && pwd)/huddle.pem
       redirect_to_https = yes      # optional: http://... goes to https://...
  2. Restart huddle; its log prints the https:// addresses to open.
  3. On the phone (same Wi-Fi), open https://<one of those addresses>:3443
     - Android/Chrome: the warning page -> Advanced -> Proceed; or install huddle.crt under
       Settings > Security > Encryption & credentials > Install a certificate > CA certificate.
     - iPhone/Safari: send yourself huddle.crt (AirDrop or mail), install the profile in Settings,
       then Settings > General > About > Certificate Trust Settings > enable it.
  4. Allow camera and microphone when the page asks.
MSG
