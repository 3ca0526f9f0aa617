"""The bench's scenarios: the mixed day's request list."""

from bench import scenarios


def test_a_mixed_list_keeps_the_days_proportions_when_applicants_are_few():
    # 94 % applications: 1,000 requests want 940 applicants; a city with 470 gets half a list.
    weights = {"apply": 940, "check": 40, "transfer": 20}
    assert scenarios.mix_counts(1000, weights, applicants=5000) == {
        "apply": 940,
        "check": 40,
        "transfer": 20,
    }
    assert scenarios.mix_counts(1000, weights, applicants=470) == {
        "apply": 470,
        "check": 20,
        "transfer": 10,
    }
