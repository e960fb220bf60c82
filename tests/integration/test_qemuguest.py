#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""When a guest tier boots its guest a second time (tests/lib/qemuguest.py
early_crash()): only for a kernel that crashed with no module loaded.  A
crash with any module loaded, or no crash, is never a reason to boot again.
"""
import os
import sys
import unittest

import zxtest

sys.path.insert(0, os.path.join(zxtest.TOP, "tests", "lib"))
import qemuguest  # noqa: E402

# the shape of the console seen once under QEMU 7.2's TCG (driver-vm, 6.12)
CRASH = """[    2.060294] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[    2.060879] RIP: 0010:sched_clock_cpu+0x9/0x190
[    2.062167]  <IRQ>
[    2.063031] Modules linked in:
[    2.063359] ---[ end trace 0000000000000000 ]---
[    2.063596] Kernel panic - not syncing: Fatal exception in interrupt
"""


class EarlyCrash(unittest.TestCase):
    def test_crash_before_any_module_is_named(self):
        self.assertEqual(qemuguest.early_crash(CRASH),
                         "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI; "
                         "RIP: 0010:sched_clock_cpu+0x9/0x190")

    def test_crash_with_a_module_loaded_is_not_early(self):
        for mods in ("netdevsim", "vhost_zcrx(OE)", "virtio_net net_failover failover"):
            con = CRASH.replace("Modules linked in:", "Modules linked in: " + mods)
            self.assertIsNone(qemuguest.early_crash(con), mods)

    def test_oops_without_panic_or_clean_boot_is_not_early(self):
        self.assertIsNone(qemuguest.early_crash(CRASH.replace("Kernel panic", "Kernel note")))
        self.assertIsNone(qemuguest.early_crash("[    1.0] zx: BOOTED\n"))
        self.assertIsNone(qemuguest.early_crash(""))


if __name__ == "__main__":
    zxtest.main()
