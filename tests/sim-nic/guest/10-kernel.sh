#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: stock zx
#
# The kernel's own tools on netdevsim, before any project code: what the
# driver has (zx) or refuses (stock), through the real ethtool core, and
# that frames from the linked peer land where the rules and tables say.
# The oracles are ethtool 7.x, zxsim (netdev queue-get, qstats, the RSS
# dump) and rsspkt's Toeplitz prediction, none of them zcrxd's code.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
KEY=$ZX_KEY

run sim_pair 8 || exit 1
is "$NIC is a netdevsim port" "$(basename "$(readlink /sys/class/net/$NIC/device/driver)")" \
	netdevsim
check_out "$NIC has 8 combined channels" '^Combined:[[:space:]]+8$' ethtool -l $NIC

if [ "$ZXS_NSIM" = stock ]; then
	say "stock netdevsim: every missing feature refused by the kernel, with its text"
	check_fails "stock: rx-ntuple-filter cannot be switched on" 'ntuple-filters: off \[fixed\]' \
		sh -c "ethtool -K $NIC ntuple on; ethtool -k $NIC | grep ntuple-filters; exit 1"
	check_fails "stock: no n-tuple rules" 'Operation not supported' \
		ethtool -N $NIC flow-type ether dst 02:00:00:00:00:01 action 1
	check_fails "stock: no rule table to list" 'Operation not supported' ethtool -n $NIC
	check_fails "stock: no RSS table" 'Operation not supported' ethtool -x $NIC
	check_fails "stock: no RSS context" 'Operation not supported' \
		ethtool -X $NIC context new equal 2
	run ethtool -G $NIC tcp-data-split on hds-thresh 0
	check_fails "stock: no io_uring zcrx on a queue (no DMA device)" \
		'Operation not supported \(EOPNOTSUPP\)' zxsim zcrx $NIC 1
	check_fails "stock: no devmem binding on a queue" '^devmem .*(not supported|Invalid)' \
		zxsim devmem $NIC 2
	check_out "stock: netdev queue-get lists the 8 RX queues, none bound" \
		'^rx 7 napi=[0-9]+$' zxsim queues $NIC
	sim_unpair
	finish
	exit
fi

say "netdevsim-zx: n-tuple rules through the ethtool core"
check_out "rx-ntuple-filter starts off and can be switched" 'ntuple-filters: off$' \
	sh -c "ethtool -k $NIC | grep ntuple-filters"
check_fails "with rx-ntuple-filter off the driver refuses rules" 'Operation not supported' \
	ethtool -N $NIC flow-type ether dst 02:00:00:00:00:01 action 1
run ethtool -K $NIC ntuple on
check "a rule at location 5" ethtool -N $NIC flow-type ether dst 02:00:00:00:00:05 action 5 loc 5
check_out "a rule with no location: the driver picks the lowest free slot" \
	'Added rule with ID 0' ethtool -N $NIC flow-type udp4 dst-port 4791 action 2
check_out "ethtool -n lists both, with the table's size" \
	'^Total 2 rules' sh -c "ethtool -n $NIC | sed -n 's/^\(Total [0-9]* rules\).*/\1/p'"
is "the rule locations" "$(rules $NIC)" "0 5"
check_fails "a rule for a queue the NIC does not have is refused" 'Invalid argument' \
	ethtool -N $NIC flow-type ether dst 02:00:00:00:00:09 action 8
check_fails "an IPv6 rule is refused (this driver matches IPv4 and Ethernet only)" \
	'Operation not supported' ethtool -N $NIC flow-type udp6 dst-port 5 action 1

say "frames from $PEER, steered by those rules"
run ethtool -X $NIC hkey $KEY
frames 02:00:00:00:00:05 32 udp ; landed 5 "a dst-MAC rule: every frame on queue 5"
frames "$(mac_of $NIC)" 32 udp 198.18.0.2 4791 ; landed 2 "a UDP port rule: every frame on queue 2"
run ethtool -N $NIC flow-type ether dst 02:00:00:00:00:0d action -1 loc 9
frames 02:00:00:00:00:0d 16 raw; is "a drop rule: every frame dropped" "$GOT" "drop=16"
run ethtool -N $NIC delete 9

say "the RSS table and key"
tab=$(table $NIC)
is "the default table spreads over the 8 queues" "$(spread "$tab")" "0 1 2 3 4 5 6 7"
frames "$(mac_of $NIC)" 128 udp 198.18.0.2 9 20000
want=$(nz "$(rsspkt predict $KEY sdfn "$tab" 128 20000)")
is "frames without a rule land as Toeplitz with the key and table says" "$GOT" "$want"
run ethtool -X $NIC equal 2
frames "$(mac_of $NIC)" 64 udp 198.18.0.2 9 21000 ; landed "0 1" "after -X equal 2: queues 0 and 1 only"
is "qstats (the netdev API) counts what the driver's debugfs counts" \
	"$(nz "$(zxsim qstats $NIC)")" "$(nz "$(zxsim counters $NIC | sed 's/ drop=[0-9]*//')")"

say "RSS contexts"
check_out "ethtool -X context new start 4 equal 2" 'New RSS context is 1' \
	ethtool -X $NIC context new start 4 equal 2
is "the kernel lists context 1" "$(contexts $NIC)" "1"
run ethtool -N $NIC flow-type udp4 dst-port 6000 context 1 action 0 loc 7
frames "$(mac_of $NIC)" 64 udp 198.18.0.2 6000 ; landed "4 5" "a rule to context 1: its queues 4 and 5"
check_fails "deleting a context a rule uses: the core refuses" 'Device or resource busy' \
	ethtool -X $NIC context 1 delete
check_fails "fewer channels than context 1 uses: the core refuses" \
	'too low for existing indirection table' ethtool -L $NIC combined 4
run ethtool -N $NIC delete 7
check "with its rule gone, context 1 can be deleted" ethtool -X $NIC context 1 delete
is "no context left" "$(contexts $NIC)" ""
check_fails "fewer channels than rule 5 (queue 5) uses: the core refuses" \
	'too low for existing ntuple filter settings' ethtool -L $NIC combined 4
run ethtool -N $NIC delete 5
run ethtool -N $NIC delete 0

say "channels, header split, queue memory providers"
run ethtool -X $NIC default
check "8 -> 4 channels" ethtool -L $NIC combined 4
is "a default table follows the channel count" "$(spread "$(table $NIC)")" "0 1 2 3"
run ethtool -L $NIC combined 8
check_fails "hds-thresh above the driver's maximum is refused" 'exceeds maximum' \
	ethtool -G $NIC hds-thresh 2048
run ethtool -G $NIC tcp-data-split off
check_fails "io_uring zcrx needs header split: the core refuses without" \
	'Invalid argument \(EINVAL\)' zxsim zcrx $NIC 3
run ethtool -G $NIC tcp-data-split on hds-thresh 0
check_out "io_uring zcrx binds queue 3 (netdev queue-get shows it)" '^rx 3 napi=[0-9]+ io-uring' \
	zxsim zcrx $NIC 3 zxsim queues $NIC
unbound() { ! zxsim queues $NIC | grep -q io-uring; }
check "the io_uring provider goes with the ring" poll 10 unbound
check_out "devmem binds a udmabuf to queue 2 (netdev queue-get shows it)" \
	'^rx 2 napi=[0-9]+ dmabuf=[0-9]+' zxsim devmem $NIC 2 zxsim queues $NIC
undevmem() { ! zxsim queues $NIC | grep -q dmabuf; }
check "the devmem binding goes with its socket" poll 10 undevmem
sim_unpair
finish
