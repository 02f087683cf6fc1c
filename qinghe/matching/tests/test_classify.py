"""Occupation classification from the catalog file: no database."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from qinghe.matching import classify, evaluation, text


@pytest.fixture(scope="module")
def docs() -> list[classify.OccupationDoc]:
    return classify.docs_from_csv()


@pytest.fixture(scope="module")
def model(docs: list[classify.OccupationDoc]) -> classify.OccupationClassifier:
    return classify.OccupationClassifier(docs)


def codes(ranked: list[tuple[str, float]]) -> list[str]:
    return [code for code, _ in ranked]


def test_the_catalog_file_gives_the_detailed_occupations_once_each(
    docs: list[classify.OccupationDoc],
) -> None:
    assert len(docs) == 1632
    assert len({d.code for d in docs}) == 1632
    software = next(d for d in docs if d.code == "2-02-10-03")
    assert software.name == "计算机软件工程技术人员"
    assert "信息和通信工程技术人员" in software.groups
    assert software.name not in software.aliases


def test_java_developer_is_a_software_occupation(model: classify.OccupationClassifier) -> None:
    top = codes(model.top("Java开发工程师", k=5))
    assert any(code.startswith("2-02-10-") for code in top), top


def test_accountant_is_in_the_accounting_group(model: classify.OccupationClassifier) -> None:
    top = codes(model.top("会计", k=5))
    assert any(code.startswith("2-06-03") for code in top), top


@pytest.mark.parametrize(
    ("title", "prefix"),
    [
        ("数控车床操作工", "6-18-"),
        ("机械设计工程师", "2-02-07-"),
        ("印刷机长", "6-08-"),
        ("护士", "2-05-08-"),
        ("小学语文老师", "2-08-02-"),
    ],
)
def test_common_heshan_titles_land_in_their_family(
    model: classify.OccupationClassifier, title: str, prefix: str
) -> None:
    top = codes(model.top(title, k=5))
    assert any(code.startswith(prefix) for code in top), (title, top)


def test_the_description_helps_a_vague_title(model: classify.OccupationClassifier) -> None:
    vague = codes(model.top("专员", k=5))
    described = codes(
        model.top("专员", "负责公司员工招聘、培训、薪酬核算与劳动合同管理，办理社保", k=5)
    )
    assert described != vague
    assert any(code in {"2-06-08-01", "4-07-03-04"} for code in described), described


def test_a_title_with_nothing_in_common_gives_nothing(model: classify.OccupationClassifier) -> None:
    assert model.top("", k=5) == []
    assert model.top("   ", k=5) == []
    assert model.top("😀😀", k=5) == []


def test_shares_add_up_to_one() -> None:
    shares = classify.shares([("a", 3.0), ("b", 1.0)])
    assert shares == [("a", 0.75), ("b", 0.25)]
    assert classify.shares([]) == []


def test_the_labelled_set_comes_from_aliases_and_is_held_out(
    docs: list[classify.OccupationDoc],
) -> None:
    examples = evaluation.labelled_set(docs)
    assert len(examples) == 1643
    by_title = {e.title: e.code for e in examples}
    assert by_title["Python"] == "2-02-10-03"
    held = {e.title for e in examples[:100]}
    reduced = evaluation.without_aliases(docs, held)
    remaining = {a for d in reduced for a in d.aliases}
    assert not remaining & held
    parts = evaluation.folds(examples, 5)
    assert sorted(e.title for part in parts for e in part) == sorted(e.title for e in examples)


def test_metrics_count_top1_top5_and_reciprocal_rank() -> None:
    metrics = evaluation.Metrics()
    metrics.add(["a", "b"], "a")
    metrics.add(["x", "y", "b"], "b")
    metrics.add(["x"], "z")
    assert metrics.as_dict() == pytest.approx(
        {"n": 3, "top1": 1 / 3, "top5": 2 / 3, "mrr10": (1 + 1 / 3) / 3}
    )


def test_title_parts_split_modifier_and_head() -> None:
    assert text.title_parts("资深Java开发工程师/架构师") == [("java开发", "工程师"), ("架构", "师")]
    assert text.title_head("数控车床操作工") == "操作工"
    assert text.skill_tokens("Python、数据分析, CAD") >= {
        "python",
        "数据分析",
        "cad",
        "数据",
        "分析",
    }


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("【急聘】会计（五险一金）", "会计"),
        ("销售代表 8k-15k", "销售代表"),
        ("品质工程师 6000-8000元/月", "品质工程师"),
        ("1. 会计", "会计"),
        ("2、Java开发工程师", "java开发工程师"),
        ("(3)仓管员", "仓管员"),
        ("①普工（长白班，包吃住）", "普工"),
        ("“文员”", "文员"),
        # Brackets about the job itself stay; a title that is all note stays as it was.
        ("网络工程师(IT工程师)", "网络工程师(it工程师)"),
        ("外贸业务员（英语）", "外贸业务员(英语)"),
        ("【双休】", "【双休】"),
        ("", ""),
    ],
)
def test_clean_title_drops_what_job_boards_wrap_around_a_title(given: str, cleaned: str) -> None:
    assert text.clean_title(given) == cleaned


def test_a_decorated_title_is_classified_as_the_plain_one(
    model: classify.OccupationClassifier,
) -> None:
    assert model.top("【急聘】会计（五险一金）8k-12k", k=5) == model.top("会计", k=5)
    assert model.top("1、Java开发工程师（双休）", k=5) == model.top("Java开发工程师", k=5)


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("家电维修", "4-12-03-01"),  # 家电 = 家用电器
        ("吊车司机", "6-30-05-02"),  # 吊车 = 起重机
        ("注塑工", "6-14-02-00"),  # 注塑 = 塑料制品成型
    ],
)
def test_job_board_shorthand_reaches_the_catalogs_words(
    model: classify.OccupationClassifier, title: str, code: str
) -> None:
    assert code in codes(model.top(title, k=5)), (title, model.top(title, k=5))


def test_listed_titles_teach_the_classifier(docs: list[classify.OccupationDoc]) -> None:
    title = "鹤山市特色岗位样例甲"
    before = classify.OccupationClassifier(docs).top(title, k=3)
    taught = classify.with_titles(docs, [(title, "6-05-01-01"), ("  ", "2-02-10-03")])
    assert [d for d in taught if d.code == "6-05-01-01"][0].aliases[-1] == title
    assert sum(len(d.aliases) for d in taught) == sum(len(d.aliases) for d in docs) + 1
    after = classify.OccupationClassifier(taught).top(title, k=3)
    assert codes(after)[0] == "6-05-01-01"
    assert codes(before)[:1] != ["6-05-01-01"]
    # A title the occupation already lists is not added twice; unknown codes are ignored.
    again = classify.with_titles(taught, [(title, "6-05-01-01"), ("某岗位", "9-99-99-99")])
    assert again == taught


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("包装工", "6-31-05-00"),  # an occupation's own name beats 包装设计师
        ("高级 包装工", "6-31-05-00"),
        ("健身教练", "4-14-05-01"),  # a title the catalog lists under 社会体育指导员
    ],
)
def test_a_listed_title_is_its_occupation(
    model: classify.OccupationClassifier, title: str, code: str
) -> None:
    assert codes(model.top(title, k=3))[0] == code


def test_title_key_ignores_seniority_spaces_and_separators() -> None:
    assert text.title_key("资深 Java/开发工程师") == text.title_key("java开发工程师")
    assert text.title_key("") == ""


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("客服专员 底薪+奖金+双休", "客服专员"),
        ("行政专员/助理 5000+月度奖金+周末双休", "行政专员/助理"),
        ("人事专员 6k+五险一金+双休", "人事专员"),
        # Words about the job after a space stay.
        ("财务助理 会计助理", "财务助理 会计助理"),
        ("外贸 业务 跟单", "外贸 业务 跟单"),
    ],
)
def test_clean_title_drops_perks_appended_without_brackets(given: str, cleaned: str) -> None:
    assert text.clean_title(given) == cleaned


def test_alias_corrections_move_a_listed_title_to_the_right_occupation(
    docs: list[classify.OccupationDoc],
) -> None:
    by_code = {d.code: d for d in docs}
    assert "测试工程师" not in by_code["2-02-31-01"].aliases  # 产品质量检验工程技术人员
    assert "测试工程师" in by_code["4-04-05-02"].aliases  # 计算机软件测试员
    assert "单证员" not in by_code["2-07-05-00"].aliases  # 公证员
    assert "单证员" in by_code["2-06-07-01"].aliases  # 国际商务专业人员
    # Every correction names real codes and a title the wrong occupation lists in the file.
    raw = {d.code: d for d in _docs_without_corrections()}
    for alias, wrong, right in classify.alias_corrections():
        assert alias in raw[wrong].aliases, alias
        assert right in raw


def _docs_without_corrections() -> list[classify.OccupationDoc]:
    saved = classify.alias_corrections
    try:
        classify.alias_corrections = lambda: ()  # type: ignore[assignment]
        return classify.docs_from_csv()
    finally:
        classify.alias_corrections = saved  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("title", "right", "wrong"),
    [
        # Issue 19: 测试 + 工程师 is software testing, not product quality inspection.
        ("测试工程师", "4-04-05-02", "2-02-31-01"),
        ("软件测试工程师", "4-04-05-02", "2-02-31-01"),
        ("单证员", "2-06-07-01", "2-07-05-00"),
        ("海运操作", "4-02-05-03", "6-30-04-03"),
    ],
)
def test_confusions_found_on_real_titles_are_fixed(
    model: classify.OccupationClassifier, title: str, right: str, wrong: str
) -> None:
    ranked = codes(model.top(title, k=5))
    assert ranked[0] == right, (title, ranked)
    assert wrong not in ranked[:1]


def test_a_clear_lexical_answer_is_not_embedded(docs: list[classify.OccupationDoc]) -> None:
    from qinghe.matching import embedding

    class Counting:
        def __init__(self) -> None:
            self.inner = embedding.default_encoder()
            self.asked: list[str] = []

        def queries(self, texts: Sequence[str]) -> np.ndarray:
            self.asked.extend(texts)
            return self.inner.queries(texts)

        def passages(self, texts: Sequence[str]) -> np.ndarray:
            return self.inner.passages(texts)

    encoder = Counting()
    model = classify.OccupationClassifier(docs, encoder=encoder)
    encoder.asked.clear()
    clear, unsure = "会计", "做账"
    ranked = model.rank([(clear, ""), (unsure, "")], 5)
    assert encoder.asked == [unsure]
    assert ranked[0][0][0] == "2-06-03-00"
    assert sum(score for _, score in model.rank([(clear, "")], 1632)[0]) == pytest.approx(1.0)
    # With a negative margin every title is embedded.
    always = classify.OccupationClassifier(
        docs, classify.ClassifierParams(lexical_margin=-1.0), encoder=encoder
    )
    encoder.asked.clear()
    always.rank([(clear, "")], 5)
    assert encoder.asked == [clear]


def test_metrics_accept_any_listed_code_and_not_sure_threshold() -> None:
    metrics = evaluation.Metrics()
    metrics.add_accepting(["a", "b"], {"b", "c"})
    metrics.add_accepting(["c"], ["c"])
    metrics.add_accepting(["x"], ["y"])
    assert metrics.as_dict() == pytest.approx(
        {"n": 3, "top1": 1 / 3, "top5": 2 / 3, "mrr10": (0.5 + 1) / 3}
    )
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    right = [True, True, False, True, False]
    # Kept from the top: 1/1, 2/2, 2/3, 3/4, 3/5 right.
    assert evaluation.not_sure_threshold(scores, right, 0.75) == 0.6
    assert evaluation.not_sure_threshold(scores, right, 1.0) == 0.8
    assert evaluation.not_sure_threshold(scores, [True] * 5, 0.9) == 0.0
    assert evaluation.not_sure_threshold(scores, [False] * 5, 0.5) == float("inf")
