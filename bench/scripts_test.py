"""Unit tests of the benchmark's report scripts (run by `make test`): the goals summary and
`make bench-compare`."""

import unittest

import compare
import goals


def results(**over):
    base = {
        "packages": [{"function": "compose", "zip_bytes": 3_900_000}],
        "coldStarts": {
            "hello_rust": {"init_ms_median": 2.0},
            "functions": [{"name": "compose", "init_ms_median": 2.9, "peak_rss_mb": 11.0}],
        },
        "operations": [
            {"name": "compose", "calls_per_request": {"DynamoDB.BatchGetItem": 1.0, "DynamoDB.TransactWriteItems": 1.0}},
            {"name": "assign", "calls_per_request": {"DynamoDB.GetItem": 2.0, "DynamoDB.TransactWriteItems": 1.0}},
        ],
        "kmsPer1000Messages": -0.0,
        "costModel": {"monthly": {"lambda": 1.0, "dynamodb": 1.5}},
    }
    base.update(over)
    return base


class Goals(unittest.TestCase):
    def verdicts(self, r):
        return {goal: ok for goal, _, _, ok in goals.rows(r)}

    def test_each_goal_is_met_or_missed_by_its_figure(self):
        v = self.verdicts(results())
        self.assertTrue(v["package size (largest zip)"])
        self.assertTrue(v["cold start (slowest init ÷ hello world)"])  # 1.45×
        self.assertTrue(v["AWS calls: compose"])  # 2
        self.assertFalse(v["AWS calls: assign"])  # 3 > 2
        self.assertTrue(v["KMS calls per 1,000 messages (warm)"])
        self.assertTrue(v["monthly cost of the reference practice"])

    def test_a_slow_cold_start_is_missed(self):
        slow = {"hello_rust": {"init_ms_median": 2.0}, "functions": [{"name": "compose", "init_ms_median": 3.1}]}
        self.assertFalse(self.verdicts(results(coldStarts=slow))["cold start (slowest init ÷ hello world)"])


class Compare(unittest.TestCase):
    def test_rows_are_matched_by_name_and_only_differences_are_printed(self):
        a = {"operations": [{"name": "compose", "cpu": 10}, {"name": "reply", "cpu": 5}]}
        b = {"operations": [{"name": "new-op", "cpu": 1}, {"name": "compose", "cpu": 20}, {"name": "reply", "cpu": 5}]}
        lines = compare.compare(a, b)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("operations[compose].cpu", lines[0])
        self.assertIn("2.00×", lines[0])
        self.assertIn("operations[new-op].cpu", lines[1])

    def test_identical_files_differ_nowhere(self):
        self.assertEqual(compare.compare(results(), results()), [])


if __name__ == "__main__":
    unittest.main()
