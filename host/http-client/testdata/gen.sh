#!/bin/sh
# Regenerates the test PKI: a CA, a server certificate for
# "target.example" (no IP SAN, so verifying against 127.0.0.1 fails) and a
# client certificate, all valid for 100 years. Run from this directory.
set -eu
openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=Pharos test CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout $who.key -out $who.csr 2>/dev/null
done
printf 'subjectAltName=DNS:target.example\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for who in server client; do
  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 36500 \
    -extfile $who.ext -out $who.crt 2>/dev/null
done
rm -f *.csr *.ext ca.srl ca.key
