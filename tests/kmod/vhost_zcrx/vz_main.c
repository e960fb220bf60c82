// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vhost_zcrx reference module: load, unload, and what it watches.
 *
 * A NIC or tap that is unregistered takes its bindings with it (BROKEN,
 * ENODEV, announced).  A change of the RX queue count has no netdev
 * notifier, and a queue taken by another memory provider, AF_XDP or a lease
 * has none either, so a delayed work looks at the bound queues every
 * check_interval_ms while there are bindings.  A module with a real memory
 * provider would not need it: the core refuses both while a provider is
 * installed (README.md).
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "vz.h"

static unsigned int max_bindings = 16;
module_param(max_bindings, uint, 0644);
MODULE_PARM_DESC(max_bindings, "Bindings per NIC (MAX_BINDINGS), 0 for no limit");

static bool copy_fallback = true;
module_param(copy_fallback, bool, 0644);
MODULE_PARM_DESC(copy_fallback, "Offer COPY_FALLBACK (accept FALLBACK=COPY)");

static unsigned int check_interval_ms = 100;
module_param(check_interval_ms, uint, 0644);
MODULE_PARM_DESC(check_interval_ms, "How often bound queues are looked at (ms)");

static bool vz_going;
static void vz_check_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(vz_check_work, vz_check_fn);

unsigned int vz_max_bindings(void)
{
	return READ_ONCE(max_bindings);
}

bool vz_copy_fallback(void)
{
	return READ_ONCE(copy_fallback);
}

/* Under vz_lock: true once unloading began (no more notifications). */
bool vz_unloading(void)
{
	lockdep_assert_held(&vz_lock);
	return vz_going;
}

static unsigned long vz_check_delay(void)
{
	return msecs_to_jiffies(max(READ_ONCE(check_interval_ms), 10U));
}

/* A binding was made: make sure the queues are looked at. */
void vz_check_start(void)
{
	mutex_lock(&vz_lock);
	if (!vz_going)
		schedule_delayed_work(&vz_check_work, vz_check_delay());
	mutex_unlock(&vz_lock);
}

static void vz_check_fn(struct work_struct *work)
{
	mutex_lock(&vz_lock);
	vz_check_all();
	if (!vz_going && !xa_empty(&vz_bindings))
		schedule_delayed_work(&vz_check_work, vz_check_delay());
	mutex_unlock(&vz_lock);
}

static int vz_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	if (event == NETDEV_UNREGISTER)
		vz_dev_gone(netdev_notifier_info_to_dev(ptr));
	return NOTIFY_DONE;
}

static struct notifier_block vz_netdev_nb = {
	.notifier_call = vz_netdev_event,
};

static int __init vz_init(void)
{
	int err;

	err = register_netdevice_notifier(&vz_netdev_nb);
	if (err)
		return err;
	err = vz_nl_register();
	if (err) {
		unregister_netdevice_notifier(&vz_netdev_nb);
		return err;
	}
	return 0;
}

static void __exit vz_exit(void)
{
	mutex_lock(&vz_lock);
	vz_going = true;
	mutex_unlock(&vz_lock);
	/* no request runs after this, and nothing is announced any more */
	vz_nl_unregister();
	unregister_netdevice_notifier(&vz_netdev_nb);
	cancel_delayed_work_sync(&vz_check_work);
	vz_destroy_all();
}

module_init(vz_init);
module_exit(vz_exit);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("vhost_zcrx reference module: the zcrx binder ABI without a data path");
MODULE_ALIAS_GENL_FAMILY(VHOST_ZCRX_FAMILY_NAME);
