#!/bin/sh
# tests/lib/mkcerts.sh DIR - the certificates the TLS tests use, made with
# the openssl command into DIR (P-256 keys, SHA-256 signatures):
#   ca.pem ca.key            a test CA
#   server.pem server.key    CN=localhost, SAN DNS:localhost, IP:127.0.0.1,
#                            IP:::1, signed by the CA (leaf + CA chain)
#   other.pem                SAN DNS:other.invalid only (wrong name)
#   expired.pem              valid 2020-01-01 to 2020-02-01
#   future.pem               valid from 2090 on
#   client.pem client.key    a client certificate signed by the CA
#   rogue.pem rogue.key      a self-signed server certificate for localhost
# Keys of every leaf but client and rogue are server.key.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
gen ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=sockit test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>/dev/null
gen server.key
gen client.key
gen rogue.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
openssl req -new -key client.key -subj "/CN=sockit test client" -out client.csr 2>/dev/null
cat > ext.cnf <<'EOT'
[server]
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
extendedKeyUsage = serverAuth
[other]
subjectAltName = DNS:other.invalid
extendedKeyUsage = serverAuth
[client]
extendedKeyUsage = clientAuth
[ca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
EOT
: > index.txt
echo 1000 > serial
sign() { # NAME CSR EXT DAYS
	openssl x509 -req -in "$2" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-sha256 -days "$4" -extfile ext.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
}
sign server server.csr server 365
sign other server.csr other 365
sign client client.csr client 365
ca_dated() { # NAME START END
	openssl ca -batch -config ext.cnf -name ca -cert ca.pem -keyfile ca.key \
		-extfile ext.cnf -extensions server -startdate "$2" -enddate "$3" \
		-in server.csr -out "$1.pem" -notext 2>/dev/null
}
ca_dated expired 20200101000000Z 20200201000000Z
ca_dated future 20900101000000Z 20910101000000Z
rm -f ./1*.pem
cat ca.pem >> server.pem
openssl req -x509 -new -key rogue.key -sha256 -days 30 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out rogue.pem 2>/dev/null
