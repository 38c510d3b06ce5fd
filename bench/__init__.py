"""tramo's benchmarks: ratios against a bound or a baseline measured in the same run."""
