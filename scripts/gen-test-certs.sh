#!/usr/bin/env bash
# Generates throw-away TLS test certificates into DIR (default ./tls-test-certs):
#   ca.{crt,key}              a test CA
#   server.{crt,key}          signed by ca, for 127.0.0.1, ::1 and localhost ("tern-server")
#   server2.{crt,key}         signed by ca, a second server certificate ("tern-server-2"),
#                             to check a certificate reload
#   client.{crt,key}          signed by ca, a client certificate (tls-auth-clients)
#   other-ca.{crt,key}        an unrelated CA
#   other-server.{crt,key}    signed by other-ca (a peer that must not be trusted)
# Keys are EC P-256 in PKCS#8 PEM, valid 2 days. For tests and examples only.
set -euo pipefail
dir="${1:-tls-test-certs}"
mkdir -p "$dir"
cd "$dir"
command -v openssl >/dev/null || { echo "openssl is missing (apt-get install openssl)" >&2; exit 1; }

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name cn
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "/O=Tern test/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.crt" 2>/dev/null
}

leaf() { # name cn ca usage
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/O=Tern test/CN=$2" -out "$1.csr" 2>/dev/null
    cat >"$1.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$4
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
EXT
    openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 2 \
        -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

ca ca "Tern test CA"
leaf server tern-server ca serverAuth,clientAuth
leaf server2 tern-server-2 ca serverAuth,clientAuth
leaf client tern-client ca clientAuth
ca other-ca "Tern other CA"
leaf other-server tern-other-server other-ca serverAuth,clientAuth
rm -f ./*.srl
chmod 644 ./*.key
echo "test certificates in $(pwd)"
