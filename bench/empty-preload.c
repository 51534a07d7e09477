/*
 * empty-preload.c - the least a preloaded library costs: one function,
 * no constructor, linked as the shim is (-z noseparate-code).  The bench
 * starts /bin/true with it in LD_PRELOAD beside the shim's no-match
 * start-up, so that what ld.so spends finding and mapping any library is
 * told apart from what the shim itself does.
 */
int skm_bench_empty_preload(void);

int
skm_bench_empty_preload(void)
{
	return 0;
}
