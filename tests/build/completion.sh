#!/bin/sh
# tests/build/completion.sh BUILD - the bash completion of
# scripts/sockit.bash-completion, driven as bash drives it (COMP_WORDS,
# COMP_CWORD, then the completion function) against BUILD/sockit:
# subcommands, each one's options, serve's services, option values.
set -eu
build=${1:-build}
command -v bash >/dev/null 2>&1 || { echo "completion: no bash; not checked"; exit 77; }
[ -x "$build/sockit" ] || { echo "completion: $build/sockit not built"; exit 1; }
exec bash -c '
set -u
source scripts/sockit.bash-completion
sockit=$1
fail=0
# expect "WORDS..." WANTED... - complete the last word of WORDS (the
# command line up to the cursor) and fail unless every WANTED is offered;
# a WANTED of "!x" must not be.
expect() {
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_WORDS[0]=$sockit
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	shift
	_sockit
	local w got=" ${COMPREPLY[*]-} "
	for w in "$@"; do
		if [[ $w == !* ]]; then
			[[ $got != *" ${w#!} "* ]] && continue
		else
			[[ $got == *" $w "* ]] && continue
		fi
		echo "completion: \"${COMP_WORDS[*]}\": wanted $w, got:$got"
		fail=1
	done
}
expect "sockit " connect listen serve bench scan check resolve service hostname help
expect "sockit se" serve service send !scan
expect "sockit send --verify " xxh3 sha256 none
expect "sockit recv --" --dir --overwrite --no-resume --max-size
expect "sockit send --" --tls --pin --secret --secret-file
expect "sockit recv --" --tls --secret --secret-file
expect "sockit -" --help --version
expect "sockit help sc" scan
expect "sockit serve " echo chargen chat hello discard !--tcp
expect "sockit serve " socks5
expect "sockit connect --pro" --proxy
expect "sockit connect --proxy so" socks5:// socks5h:// socks4a://
expect "sockit http --proxy " http://
expect "sockit serve --proxy" --proxy-user
expect "sockit relay --" --workers --connect-timeout --idle-timeout --max-time --max-per-ip
expect "sockit serve ch" chargen chat !echo
expect "sockit serve h" hello http
expect "sockit serve --workers 1 " echo http !--tcp
expect "sockit serve --dotfiles http /" /tmp !http !echo
expect "sockit serve echo " !echo !http
expect "sockit serve --" --listen --workers --max-conns --idle-timeout --json --verbose !--fqdn
expect "sockit scan --" --timeout --parallel --rate --open --json --retries --seed --shard --resume --exclude --exclude-file --merge --banner --no-randomize
expect "sockit scan -" -oG -oX -iL -p
expect "sockit connect -" -4 -6 -u --udp -w -s --source-port -v --eof= --crlf --send
expect "sockit listen --" --keep-open --unix --allow --deny
expect "sockit bench --" --connections --duration --mode --pipeline --header --no-keepalive
expect "sockit bench --mode " echo connect http
expect "sockit bench -c " !--mode !echo
expect "sockit resolve -" -4 -6 --json
expect "sockit hostname -" --fqdn
expect "sockit check -" -4 -6 -w --timeout --json
expect "sockit connect --" --tls --ca --pin --insecure --sni --no-sni --alpn --cert --key --tls-min
expect "sockit listen --" --tls --cert --key --verify-client !--pin
expect "sockit check --" --tls --warn-days --pin
expect "sockit serve --" --tls --handshake-timeout --verify-client --dotfiles --follow-symlinks --no-access-log
expect "sockit connect --tls-min " 1.2 1.3
expect "sockit service -" -u
n=$(( $(_sockit_commands "$sockit" | wc -l) ))
[[ $fail -eq 0 ]] && echo "completion: $n subcommands, their options and serve'"'"'s services complete"
exit $fail
' completion "$build/sockit"
