"""Unit tests of iam_conditions: the item checks of a request, and their evaluation against
statements shaped as template.yaml writes them (`python -m unittest iam_conditions_test`)."""

import json
import unittest

from iam_conditions import checks, partition_shape, permitted, unsupported_conditions

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"


def cond(operator: str, *patterns: str) -> dict:
    return {operator: {"dynamodb:LeadingKeys": list(patterns)}}


READ = {"Sid": "TableRead", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
        "Resource": [TABLE, f"{TABLE}/index/*"]}
WRITE = {"Sid": "TableWrite", "Effect": "Allow", "Resource": TABLE,
         "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]}
# The audit log's append-only policy, as every function but the audit chain attaches it.
NO_AUDIT_REWRITE = {"Sid": "NoAuditRewrite", "Effect": "Deny", "Resource": TABLE,
                    "Action": ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
                    "Condition": cond("ForAnyValue:StringLike", "PRAC#*#AUDIT#*")}
# The notifier's: writes only in inbox and conversation partitions.
LATE_ENTRIES = {"Sid": "LateInboxEntries", "Effect": "Allow", "Resource": TABLE,
                "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "Condition": cond("ForAllValues:StringLike", "PRAC#*#USER#*")}
MEMBERSHIP = {"Sid": "ConversationMembership", "Effect": "Allow", "Resource": TABLE,
              "Action": ["dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"],
              "Condition": cond("ForAllValues:StringLike", "PRAC#*#CONV#*")}


def key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


def request(**body) -> bytes:
    return json.dumps(body).encode()


def item_checks(action: str, **body):
    return checks(f"dynamodb:{action}", request(**body), lambda table: "pk")


def allowed(statements, action: str, **body) -> list[bool]:
    return [permitted(statements, c) for c in item_checks(action, **body)]


class Checks(unittest.TestCase):
    def test_a_transaction_is_one_check_per_item_under_the_items_action(self):
        found = item_checks("TransactWriteItems", TransactItems=[
            {"Put": {"TableName": "t", "Item": key("A")}},
            {"Update": {"TableName": "t", "Key": key("B")}},
            {"ConditionCheck": {"TableName": "t", "Key": key("C")}},
            {"Delete": {"TableName": "t", "Key": key("D")}},
        ])
        self.assertEqual([(c.action, c.leading_keys) for c in found], [
            ("dynamodb:PutItem", ["A"]), ("dynamodb:UpdateItem", ["B"]),
            ("dynamodb:ConditionCheckItem", ["C"]), ("dynamodb:DeleteItem", ["D"])])

    def test_a_batch_write_is_one_check_with_every_partition_it_touches(self):
        [found] = item_checks("BatchWriteItem", RequestItems={"t": [
            {"PutRequest": {"Item": key("A")}}, {"DeleteRequest": {"Key": key("B")}}]})
        self.assertEqual((found.action, found.leading_keys), ("dynamodb:BatchWriteItem", ["A", "B"]))

    def test_a_query_names_its_partition_on_the_table_and_its_resource_on_an_index(self):
        [table] = item_checks("Query", TableName="t", KeyConditionExpression="#pk = :pk AND begins_with(sk, :p)",
                              ExpressionAttributeNames={"#pk": "pk"},
                              ExpressionAttributeValues={":pk": {"S": "PRAC#1#USER#2"}, ":p": {"S": "E"}})
        self.assertEqual((table.kind, table.leading_keys), ("table", ["PRAC#1#USER#2"]))
        [index] = item_checks("Query", TableName="t", IndexName="gsi1", KeyConditionExpression="gsi1pk = :v",
                              ExpressionAttributeValues={":v": {"S": "X"}})
        self.assertEqual(index.kind, "index")

    def test_actions_on_no_item_make_no_check(self):
        self.assertEqual(item_checks("DescribeTable", TableName="t"), [])


class Evaluation(unittest.TestCase):
    def test_the_audit_log_is_append_only_under_the_deny(self):
        statements = [WRITE, NO_AUDIT_REWRITE]
        self.assertEqual(allowed(statements, "PutItem", TableName="t", Item=key("PRAC#1#AUDIT#2")), [True])
        self.assertEqual(allowed(statements, "UpdateItem", TableName="t", Key=key("PRAC#1#AUDIT#2")), [False])
        self.assertEqual(allowed(statements, "DeleteItem", TableName="t", Key=key("PRAC#1#AUDIT#2")), [False])
        self.assertEqual(allowed(statements, "UpdateItem", TableName="t", Key=key("PRAC#1#USER#2")), [True])
        # Any audit partition among a batch's refuses the whole batch.
        self.assertEqual(allowed(statements, "BatchWriteItem", TableName="t", RequestItems={"t": [
            {"PutRequest": {"Item": key("PRAC#1#USER#2")}}, {"DeleteRequest": {"Key": key("PRAC#1#AUDIT#2")}}]}),
            [False])

    def test_a_conditioned_grant_holds_only_in_its_partitions(self):
        statements = [LATE_ENTRIES, MEMBERSHIP]
        self.assertEqual(allowed(statements, "PutItem", TableName="t", Item=key("PRAC#1#USER#2")), [True])
        self.assertEqual(allowed(statements, "PutItem", TableName="t", Item=key("PRAC#1#CONV#2")), [False])
        self.assertEqual(allowed(statements, "UpdateItem", TableName="t", Key=key("PRAC#1#CONV#2")), [True])
        self.assertEqual(allowed(statements, "DeleteItem", TableName="t", Key=key("PRAC#1#CONV#2")), [False])
        self.assertEqual(allowed(statements, "TransactWriteItems", TransactItems=[
            {"Put": {"TableName": "t", "Item": key("PRAC#1#USER#2")}},
            {"ConditionCheck": {"TableName": "t", "Key": key("PRAC#1#CONV#2")}},
            {"ConditionCheck": {"TableName": "t", "Key": key("PRAC#1#USER#2")}}]), [True, True, False])

    def test_a_pattern_is_iams_wildcard_not_a_regular_expression(self):
        statements = [dict(LATE_ENTRIES, Condition=cond("ForAllValues:StringLike", "PRAC#?#USER#*"))]
        self.assertEqual(allowed(statements, "PutItem", TableName="t", Item=key("PRAC#1#USER#2")), [True])
        self.assertEqual(allowed(statements, "PutItem", TableName="t", Item=key("PRAC#12#USER#2")), [False])
        exact = [dict(LATE_ENTRIES, Condition=cond("ForAllValues:StringEquals", "PRAC#*#USER#*"))]
        self.assertEqual(allowed(exact, "PutItem", TableName="t", Item=key("PRAC#1#USER#2")), [False])

    def test_a_grant_on_the_table_is_no_grant_on_its_indexes(self):
        table_only = [dict(READ, Resource=TABLE)]
        body = {"TableName": "t", "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :v",
                "ExpressionAttributeValues": {":v": {"S": "X"}}}
        self.assertEqual(allowed(table_only, "Query", **body), [False])
        self.assertEqual(allowed([READ], "Query", **body), [True])

    def test_an_action_no_statement_names_is_refused(self):
        self.assertEqual(allowed([READ], "PutItem", TableName="t", Item=key("A")), [False])

    def test_a_condition_it_cannot_evaluate_is_named(self):
        statements = [dict(WRITE, Condition={"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a"]}}),
                      NO_AUDIT_REWRITE]
        self.assertEqual(unsupported_conditions(statements), ["TableWrite: ForAllValues:StringEquals dynamodb:Attributes"])

    def test_a_partition_is_named_by_its_tags_with_its_values_starred(self):
        self.assertEqual(partition_shape("PRAC#prac_1#AUDIT#CONVERSATION#conv_2"), "PRAC#*#AUDIT#CONVERSATION#*")
        self.assertEqual(partition_shape("OUTBOX#msg_1"), "OUTBOX#*")
        self.assertEqual(partition_shape("PRACTICES"), "PRACTICES")


if __name__ == "__main__":
    unittest.main()
