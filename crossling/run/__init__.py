"""The corpus run without orchestration, one module per pass.

    config    CorpusConfig, composed from the sections the registered steps and stages own
    registry  the per-document steps and the global stages, in order
    plan      partitions, the version's name, which partitions are measured already
    tag       read and measure one partition (every Step's ``measure``), kept for reuse
    decide    the per-document thresholds (every Step's ``decide``) over the tagged rows
    reduce    the global stages: a map per partition, one reduce, their decisions merged
    write     decisions applied, DOCS / PAIRS / REJECTS shards written through the one writer
    commit    dataset card and manifest, last
    schedule  the order of the passes (the one place it is written) on an executor
    executors inline, local process pool, Dask

docs/ARCHITECTURE.md describes the run; this package never imports orchestration code.
"""
