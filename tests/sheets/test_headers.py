from sheets.headers import match_headers, normalize, snake_case


def test_matching_ignores_case_spaces_underscores_and_units():
    m = match_headers("orders", ["ORDER_ID", " Customer ID ", "order-date", "Amount (USD)"])
    assert m.columns == {"order_id": 0, "customer_id": 1, "order_date": 2, "amount": 3}
    assert m.missing == []
    assert normalize("Ｃｕｓｔｏｍｅｒ　ＩＤ") == "customerid"


def test_english_variants():
    m = match_headers("orders", ["cust_id", "Order Date", "Total"])
    assert m.columns == {"customer_id": 0, "order_date": 1, "amount": 2}
    r = match_headers("responses", ["Date", "Survey", "NPS score"])
    assert r.columns == {"date": 0, "survey": 1, "score": 2}
    s = match_headers("spend", ["Date", "Revenue"])
    assert s.columns["amount"] == 1


def test_chinese_aliases():
    m = match_headers("complaints", ["日期", "客户ID", "订单号", "类别", "状态", "解决日期"])
    assert m.columns == {"date": 0, "customer_id": 1, "order_id": 2, "category": 3, "status": 4, "resolved_on": 5}
    o = match_headers("orders", ["订单编号", "客户编号", "下单日期", "订单金额"])
    assert o.columns == {"order_id": 0, "customer_id": 1, "order_date": 2, "amount": 3}
    r = match_headers("responses", ["日期", "问卷", "分数", "客户", "评论"])
    assert r.columns == {"date": 0, "survey": 1, "score": 2, "customer_id": 3, "comment": 4}
    c = match_headers("customers", ["客户ID", "注册日期", "流失日期", "地区", "套餐", "渠道"])
    assert c.columns == {"customer_id": 0, "signup_date": 1, "churned_on": 2}
    assert c.dimensions == {"region": 3, "plan": 4, "channel": 5}
    s = match_headers("subscriptions", ["客户ID", "开始日期", "结束日期", "套餐", "金额"])
    assert s.columns == {"customer_id": 0, "start_date": 1, "end_date": 2, "plan": 3, "amount": 4}


def test_exact_canonical_name_beats_an_alias():
    m = match_headers("orders", ["Date", "order_date", "customer_id", "amount"])
    assert m.columns["order_date"] == 1


def test_explicit_mapping_wins_over_aliases():
    m = match_headers("orders", ["Customer", "Date", "Total", "Net Sales"], {"amount": "Net Sales"})
    assert m.columns["amount"] == 3
    assert m.headers["amount"] == "Net Sales"


def test_explicit_mapping_problems_are_reported():
    m = match_headers("orders", ["Customer", "Date", "Total"], {"amount": "Nope", "colour": "Total"})
    assert any('amount = "Nope"' in p for p in m.mapping_problems)
    assert any("colour is not a column" in p for p in m.mapping_problems)
    assert m.columns["amount"] == 2  # falls back to the alias


def test_missing_required_columns_are_listed():
    m = match_headers("orders", ["Customer", "Whatever"])
    assert m.missing == ["order_date", "amount"]


def test_customer_dimensions_are_snake_cased_and_deduplicated():
    m = match_headers("customers", ["Customer ID", "Customer Type", "Region", "region ", "", "Row"])
    assert m.dimensions == {"customer_type": 1, "region": 2, "region_2": 3, "row_2": 5}
    assert snake_case("Customer Type") == "customer_type"
