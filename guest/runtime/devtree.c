// SPDX-License-Identifier: MIT
/*
 * A small reader of flattened device trees (the devicetree specification's
 * format, version 16 and later), for firmware that has no libfdt. It walks
 * the structure block token by token; every offset is checked against the
 * block, so a corrupt tree reads as missing nodes, never as a fault.
 */
#include "runtime.h"

#define FDT_MAGIC		0xd00dfeed
#define FDT_BEGIN_NODE		1
#define FDT_END_NODE		2
#define FDT_PROP		3
#define FDT_NOP			4
#define FDT_END			9
#define FDT_BAD			0	/* not a token: the tree is corrupt */
#define FDT_MAX_DEPTH		32

struct fdt_header {
	u32 magic;
	u32 totalsize;
	u32 off_dt_struct;
	u32 off_dt_strings;
	u32 off_mem_rsvmap;
	u32 version;
	u32 last_comp_version;
	u32 boot_cpuid_phys;
	u32 size_dt_strings;
	u32 size_dt_struct;
};

static const u8 *dt_struct;
static u32 struct_size;
static const char *dt_strings;
static u32 strings_size;
static u32 version;

u32 dt_be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

u64 dt_cells(const void *p, unsigned int n)
{
	const u8 *b = p;
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < n && i < 2; i++)
		v = v << 32 | dt_be32(b + 4 * i);
	return v;
}

bool dt_init(const void *blob, u64 size)
{
	const struct fdt_header *h = blob;
	u32 total, off_struct, off_strings, size_strings, size_struct;

	dt_struct = NULL;
	if (!blob || size < sizeof(*h) || dt_be32(&h->magic) != FDT_MAGIC)
		return false;
	total = dt_be32(&h->totalsize);
	version = dt_be32(&h->version);
	off_struct = dt_be32(&h->off_dt_struct);
	off_strings = dt_be32(&h->off_dt_strings);
	size_strings = dt_be32(&h->size_dt_strings);
	/* size_dt_struct arrived in version 17; before, it runs to the end. */
	size_struct = version >= 17 ? dt_be32(&h->size_dt_struct) :
				      total - off_struct;
	if (total > size || total < sizeof(*h) || version < 16 ||
	    off_struct > total || size_struct > total - off_struct ||
	    off_strings > total || size_strings > total - off_strings ||
	    (off_struct & 3) || (size_struct & 3))
		return false;
	dt_struct = (const u8 *)blob + off_struct;
	struct_size = size_struct;
	dt_strings = (const char *)blob + off_strings;
	strings_size = size_strings;
	return true;
}

bool dt_init_boot(void)
{
	const struct hvm_modlist_entry *m = boot_find_module("dtb");

	return m && dt_init((const void *)m->paddr, m->size);
}

bool dt_ready(void)
{
	return dt_struct != NULL;
}

u32 dt_version(void)
{
	return dt_struct ? version : 0;
}

/* The token at off; *next is the offset after it and its payload. */
static u32 token(int off, int *next)
{
	u32 tag, len;

	if (!dt_struct || off < 0 || (off & 3) || (u32)off + 4 > struct_size)
		return FDT_BAD;
	tag = dt_be32(dt_struct + off);
	off += 4;
	switch (tag) {
	case FDT_BEGIN_NODE:
		len = strnlen((const char *)dt_struct + off, struct_size - off);
		if (len == struct_size - (u32)off)
			return FDT_BAD;		/* unterminated name */
		off += ALIGN_UP(len + 1, 4u);
		break;
	case FDT_PROP:
		if ((u32)off + 8 > struct_size)
			return FDT_BAD;
		len = dt_be32(dt_struct + off);
		if (len > struct_size - off - 8)
			return FDT_BAD;
		off += 8 + ALIGN_UP(len, 4u);
		break;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return FDT_BAD;
	}
	*next = off;
	return tag;
}

int dt_root(void)
{
	int off = 0, next;
	u32 tag;

	while ((tag = token(off, &next)) == FDT_NOP)
		off = next;
	return tag == FDT_BEGIN_NODE ? off : -1;
}

const char *dt_name(int node)
{
	int next;

	if (token(node, &next) != FDT_BEGIN_NODE)
		return "";
	return (const char *)dt_struct + node + 4;
}

/* The offset after node's FDT_END_NODE, or -1. */
static int skip_node(int node)
{
	int off = node, next, depth = 0;
	u32 tag;

	do {
		tag = token(off, &next);
		if (tag == FDT_BEGIN_NODE)
			depth++;
		else if (tag == FDT_END_NODE)
			depth--;
		else if (tag == FDT_BAD || tag == FDT_END)
			return -1;
		off = next;
	} while (depth > 0);
	return off;
}

/* From off (inside a node, after its name), the first subnode or -1. */
static int subnode_from(int off)
{
	int next;
	u32 tag;

	for (;;) {
		tag = token(off, &next);
		if (tag == FDT_BEGIN_NODE)
			return off;
		if (tag != FDT_PROP && tag != FDT_NOP)
			return -1;
		off = next;
	}
}

int dt_first_child(int node)
{
	int next;

	if (token(node, &next) != FDT_BEGIN_NODE)
		return -1;
	return subnode_from(next);
}

int dt_next_sibling(int node)
{
	int off = skip_node(node), next;
	u32 tag;

	while (off >= 0) {
		tag = token(off, &next);
		if (tag == FDT_BEGIN_NODE)
			return off;
		if (tag != FDT_NOP)
			return -1;
		off = next;
	}
	return -1;
}

int dt_parent(int node)
{
	int stack[FDT_MAX_DEPTH];
	int off = 0, next, depth = 0;
	u32 tag;

	for (;;) {
		tag = token(off, &next);
		if (tag == FDT_BEGIN_NODE) {
			if (off == node)
				return depth ? stack[depth - 1] : -1;
			if (depth == FDT_MAX_DEPTH)
				return -1;
			stack[depth++] = off;
		} else if (tag == FDT_END_NODE) {
			if (!depth)
				return -1;
			depth--;
		} else if (tag != FDT_PROP && tag != FDT_NOP) {
			return -1;
		}
		off = next;
	}
}

const void *dt_prop(int node, const char *name, u32 *len)
{
	int off, next;
	u32 tag;

	if (token(node, &off) != FDT_BEGIN_NODE)
		return NULL;
	for (;;) {
		tag = token(off, &next);
		if (tag == FDT_PROP) {
			u32 plen = dt_be32(dt_struct + off + 4);
			u32 nameoff = dt_be32(dt_struct + off + 8);

			if (nameoff < strings_size &&
			    strnlen(dt_strings + nameoff, strings_size - nameoff) <
			    strings_size - nameoff &&
			    !strcmp(dt_strings + nameoff, name)) {
				if (len)
					*len = plen;
				return dt_struct + off + 12;
			}
		} else if (tag != FDT_NOP) {
			return NULL;	/* properties come before subnodes */
		}
		off = next;
	}
}

const char *dt_prop_string(int node, const char *name)
{
	u32 len = 0;
	const char *s = dt_prop(node, name, &len);

	if (!s || !len || strnlen(s, len) == len)
		return NULL;
	return s;
}

bool dt_prop_u32(int node, const char *name, u32 *val)
{
	u32 len = 0;
	const void *p = dt_prop(node, name, &len);

	if (!p || len != 4)
		return false;
	*val = dt_be32(p);
	return true;
}

bool dt_is_compatible(int node, const char *compat)
{
	u32 len = 0, pos = 0;
	const char *list = dt_prop(node, "compatible", &len);

	while (list && pos < len) {
		size_t n = strnlen(list + pos, len - pos);

		if (n == len - pos)
			return false;		/* unterminated */
		if (!strcmp(list + pos, compat))
			return true;
		pos += n + 1;
	}
	return false;
}

/* Nodes in document order: the token walk is a depth-first traversal. */
int dt_find_compatible(int from, const char *compat)
{
	int off = from < 0 ? 0 : from, next;
	u32 tag;

	if (from >= 0 && token(from, &off) != FDT_BEGIN_NODE)
		return -1;
	for (;;) {
		tag = token(off, &next);
		if (tag == FDT_BEGIN_NODE && dt_is_compatible(off, compat))
			return off;
		if (tag == FDT_BAD || tag == FDT_END)
			return -1;
		off = next;
	}
}

int dt_find_phandle(u32 phandle)
{
	int off = 0, next;
	u32 tag, value;

	if (!phandle || phandle == 0xffffffff)
		return -1;
	for (;;) {
		tag = token(off, &next);
		if (tag == FDT_BEGIN_NODE &&
		    ((dt_prop_u32(off, "phandle", &value) && value == phandle) ||
		     (dt_prop_u32(off, "linux,phandle", &value) &&
		      value == phandle)))
			return off;
		if (tag == FDT_BAD || tag == FDT_END)
			return -1;
		off = next;
	}
}

static bool has_unit_address(const char *comp, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (comp[i] == '@')
			return true;
	return false;
}

static bool component_matches(const char *name, const char *comp, size_t len)
{
	if (strlen(name) == len && !strncmp(name, comp, len))
		return true;
	/* "serial" matches "serial@3f8" when no unit address was asked for */
	return !has_unit_address(comp, len) && !strncmp(name, comp, len) &&
	       name[len] == '@';
}

int dt_path(const char *path)
{
	int node = dt_root();

	if (node < 0 || !path || path[0] != '/')
		return -1;
	while (*path) {
		const char *comp;
		size_t len;
		int child;

		while (*path == '/')
			path++;
		if (!*path)
			break;
		comp = path;
		while (*path && *path != '/')
			path++;
		len = path - comp;
		for (child = dt_first_child(node); child >= 0;
		     child = dt_next_sibling(child))
			if (component_matches(dt_name(child), comp, len))
				break;
		if (child < 0)
			return -1;
		node = child;
	}
	return node;
}

u32 dt_address_cells(int node)
{
	u32 v;

	return dt_prop_u32(node, "#address-cells", &v) ? v : 2;
}

u32 dt_size_cells(int node)
{
	u32 v;

	return dt_prop_u32(node, "#size-cells", &v) ? v : 1;
}

bool dt_reg(int node, unsigned int index, u64 *addr, u64 *size)
{
	int parent = dt_parent(node);
	u32 ac, sc, len = 0, entry;
	const u8 *reg;

	if (parent < 0)
		return false;
	ac = dt_address_cells(parent);
	sc = dt_size_cells(parent);
	reg = dt_prop(node, "reg", &len);
	if (!reg || ac < 1 || ac > 2 || sc > 2)
		return false;
	entry = 4 * (ac + sc);
	if ((u64)(index + 1) * entry > len)
		return false;
	reg += index * entry;
	*addr = dt_cells(reg, ac);
	*size = sc ? dt_cells(reg + 4 * ac, sc) : 0;
	return true;
}
