#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest checks against virtio_net (eth0, RSS) and vmxnet3 (eth1).
. /payload/guest/lib.sh
V=eth0
X=eth1
ip link set $V up
ip link set $X up
is "eth0 driver" "$(driver $V)" virtio_net
is "eth1 driver" "$(driver $X)" vmxnet3

KEY=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa
check "virtio: 4 channels" ethtool -L $V combined 4
check "virtio: key" ethtool -X $V hkey $KEY
# virtio_net sends hash-field changes to the device only while rx-hashing is
# on (with it off the fields are accepted and read back but not applied).
check "virtio: rxhash on" ethtool -K $V rxhash on
check "virtio: udp4 sdfn" ethtool -N $V rx-flow-hash udp4 sdfn

run ethtool -X $V weight 0 0 0 1 && steer $V $KEY sdfn 128 10000
steered "virtio steering all->q3"
run ethtool -X $V weight 1 2 0 1 && steer $V $KEY sdfn 128 20000
steered "virtio steering weight 1 2 0 1"
check_fails "virtio refuses shrink" "too low for existing indirection table" ethtool -L $V combined 2
run ethtool -N $V rx-flow-hash udp4 sd && steer $V $KEY sd 128 30000
steered "virtio steering sd"
check_fails "virtio: no RSS contexts" "Operation not supported" ethtool -X $V context new equal 2
check "vmxnet3 -x" ethtool -x $X
check_fails "vmxnet3 -L" "Operation not supported" ethtool -L $X combined 1
run ethtool -X $V default
run ethtool -N $V rx-flow-hash udp4 sdfn
finish
