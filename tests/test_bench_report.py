"""The bench's report: the percentiles its tables give."""

from bench import report


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))
    assert report.percentile(values, 50) == 50
    assert report.percentile(values, 99) == 99
    assert report.percentile([7.0], 99) == 7.0
