// SPDX-License-Identifier: MIT
/* The GSI routing table and irqfd calls, on a recording backend. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/support/fake_irq.h"

static int setup(void **state)
{
	static struct fake_irq f;

	assert_int_equal(fake_irq_init(&f, 4), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fake_irq_fini(*state);
	return 0;
}

/* KVM's own defaults: GSIs 0-15 on PIC and IOAPIC, 16-23 IOAPIC only. */
static void assert_default_routes(struct fake_irq *f)
{
	unsigned int gsi, i, ioapic, pic;

	for (gsi = 0; gsi < IRQ_IOAPIC_PINS; gsi++) {
		ioapic = pic = 0;
		for (i = 0; i < f->nr_table; i++) {
			const struct kvm_irq_routing_entry *e = &f->table[i];

			if (e->gsi != gsi || e->type != KVM_IRQ_ROUTING_IRQCHIP)
				continue;
			if (e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
				assert_int_equal(e->u.irqchip.pin, gsi);
				ioapic++;
			} else {
				assert_int_equal(e->u.irqchip.irqchip,
						 gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
							   KVM_IRQCHIP_PIC_SLAVE);
				assert_int_equal(e->u.irqchip.pin, gsi % 8);
				pic++;
			}
		}
		assert_int_equal(ioapic, 1);
		assert_int_equal(pic, gsi < 16 ? 1 : 0);
	}
}

static void test_msi_route_add_keeps_irqchip_defaults(void **state)
{
	struct fake_irq *f = *state;
	const struct kvm_irq_routing_entry *e;
	u32 gsi = 0;

	assert_int_equal(irq_msi_route_add(f->router, 0x1fee01000ULL, 0x4041,
					   &gsi), 0);
	assert_int_equal(gsi, IRQ_MSI_GSI_BASE);
	assert_int_equal(f->nr_table, IRQ_IOAPIC_PINS + IRQ_PIC_PINS + 1);
	assert_default_routes(f);
	e = fake_irq_msi_route(f, gsi);
	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, 0xfee01000);
	assert_int_equal(e->u.msi.address_hi, 1);
	assert_int_equal(e->u.msi.data, 0x4041);
	assert_int_equal(irq_msi_route_count(f->router), 1);
}

static void test_msi_route_update_and_remove(void **state)
{
	struct fake_irq *f = *state;
	u32 a = 0, b = 0, c = 0;
	unsigned int commits;

	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 0x30, &a), 0);
	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 0x31, &b), 0);
	assert_int_not_equal(a, b);
	assert_int_equal(irq_msi_route_update(f->router, b, 0xfee02000, 0x55), 0);
	assert_int_equal(fake_irq_msi_route(f, b)->u.msi.data, 0x55);
	assert_int_equal(fake_irq_msi_route(f, b)->u.msi.address_lo, 0xfee02000);
	assert_int_equal(fake_irq_msi_route(f, a)->u.msi.data, 0x30);
	/* The same values again: no commit needed. */
	commits = f->commits;
	assert_int_equal(irq_msi_route_update(f->router, b, 0xfee02000, 0x55), 0);
	assert_int_equal(f->commits, commits);

	assert_int_equal(irq_msi_route_remove(f->router, a), 0);
	assert_null(fake_irq_msi_route(f, a));
	assert_int_equal(irq_msi_route_remove(f->router, a), -ENOENT);
	assert_int_equal(irq_msi_route_update(f->router, a, 0, 0), -ENOENT);
	/* Not MSI GSIs at all. */
	assert_int_equal(irq_msi_route_remove(f->router, 4), -ENOENT);
	assert_int_equal(irq_msi_route_update(f->router, 9999, 0, 0), -ENOENT);
	/* A freed GSI is handed out again. */
	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 0x32, &c), 0);
	assert_int_equal(c, a);
}

static void test_failed_commit_leaves_table(void **state)
{
	struct fake_irq *f = *state;
	u32 a = 0, b = 0;

	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 0x30, &a), 0);
	f->fail_commits = 1;
	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 0x31, &b), -EIO);
	assert_int_equal(irq_msi_route_count(f->router), 1);
	f->fail_commits = 1;
	assert_int_equal(irq_msi_route_update(f->router, a, 0xfee00000, 0x99), -EIO);
	/* The failed update is forgotten: the next commit carries 0x30. */
	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 0x31, &b), 0);
	assert_int_equal(fake_irq_msi_route(f, a)->u.msi.data, 0x30);
	f->fail_commits = 1;
	assert_int_equal(irq_msi_route_remove(f->router, a), -EIO);
	assert_non_null(fake_irq_msi_route(f, a));
	assert_int_equal(irq_msi_route_count(f->router), 2);
}

static void test_routes_run_out(void **state)
{
	struct fake_irq *f = *state;
	u32 gsi;
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, i,
						   &gsi), 0);
	assert_int_equal(irq_msi_route_add(f->router, 0xfee00000, 9, &gsi),
			 -ENOSPC);
}

static void test_irqfd_assign_flags(void **state)
{
	struct fake_irq *f = *state;
	int trigger = irq_eventfd_create(), resample = irq_eventfd_create();
	int edge = irq_eventfd_create();

	assert_true(trigger >= 0 && resample >= 0 && edge >= 0);
	assert_int_equal(irq_irqfd_assign(f->router, trigger, 17, resample), 0);
	assert_int_equal(irq_irqfd_assign(f->router, edge, 30, -1), 0);
	assert_int_equal(fake_irq_gsi_of(f, trigger), 17);
	assert_int_equal(fake_irq_resample_of(f, trigger), resample);
	assert_int_equal(fake_irq_resample_of(f, edge), -1);
	assert_int_equal(irq_irqfd_deassign(f->router, trigger, 17), 0);
	assert_int_equal(fake_irq_gsi_of(f, trigger), -1);
	assert_int_equal(irq_irqfd_deassign(f->router, trigger, 17), -ENOENT);
	assert_int_equal(irq_irqfd_assign(f->router, -1, 17, -1), -EBADF);
	close(trigger);
	close(resample);
	close(edge);
}

static void test_eventfd_signal_and_consume(void **state)
{
	int fd = irq_eventfd_create();

	(void)state;
	assert_true(fd >= 0);
	assert_false(irq_eventfd_consume(fd));	/* empty: no block */
	assert_int_equal(irq_eventfd_signal(fd), 0);
	assert_int_equal(irq_eventfd_signal(fd), 0);
	assert_true(irq_eventfd_consume(fd));
	assert_false(irq_eventfd_consume(fd));
	close(fd);
}

static void test_create_rejects_bad_backend(void **state)
{
	static const struct irq_backend_ops half = { 0 };
	struct irq_router *r;

	(void)state;
	assert_int_equal(irq_router_create_with(NULL, NULL, 4, &r), -EINVAL);
	assert_int_equal(irq_router_create_with(&half, NULL, 4, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_msi_route_add_keeps_irqchip_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_route_update_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_leaves_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_run_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqfd_assign_flags, setup, teardown),
		cmocka_unit_test(test_eventfd_signal_and_consume),
		cmocka_unit_test(test_create_rejects_bad_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
