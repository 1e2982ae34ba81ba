"""Short answers (service.answers.short): the exact span a question asks for, figures, names,
dates and lists. Hand-written sentences; every span is checked against the document text it
was cut from."""

from __future__ import annotations

import pytest
from short_helpers import answer, quoted

from service.answers.short import ShortAnswer, figures, short_answer

# ---- figures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("2018年新增多少张养老床位？", "新增7000张养老床位。", "7000张"),
        ("过去五年新增了多少张养老床位？", "养老床位新增4.9万张。", "4.9万张"),
        ("黄浦江岸线贯通了多少公里？", "黄浦江45公里岸线的公共空间贯通开放。", "45公里"),
        ("五年累计为企业减税多少亿元？", "五年累计为企业减税3112亿元。", "3112亿元"),
        ("担保基金规模有多少钱？", "设立规模50亿元的中小微企业政策性融资担保基金。", "50亿元"),
        ("今年开办几个社区幼儿托管点？", "开办20个社区幼儿托管点。", "20个"),
        ("自贸试验区有多少项成果推广到全国？", "100多项制度创新成果在全国复制推广。", "100多项"),
        ("上海市民平均能活到多少岁？", "平均期望寿命超过83岁。", "83岁"),
        (
            "国企改革后多大比例的国有资产集中到重点领域？",
            "80%的国有资产集中到战略性新兴产业。",
            "80%",
        ),
        ("有多大比例的企业实现整体上市？", "三分之二的竞争类企业实现整体上市。", "三分之二"),
        ("比重提高了几个百分点？", "所占比重提高6.8个百分点。", "6.8个百分点"),
        ("城镇新增就业多少人？", "城镇新增就业1100万人以上。", "1100万人以上"),
        ("有多少老年人享受综合津贴？", "329.7万老年人享受老年综合津贴。", "329.7万"),
        ("集装箱吞吐量连续多少年位居世界第一？", "集装箱吞吐量连续8年位居世界第一。", "8年"),
    ],
)
def test_a_figure_in_the_unit_asked(question: str, sentence: str, expected: str) -> None:
    assert answer(question, sentence) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "今年上海GDP增长目标是多少？",
            "全市生产总值增长6.5%左右，一般公共预算收入增长7%。",
            "6.5%左右",
        ),
        ("2019年GDP增长目标是多少？", "全市生产总值增长6%－6.5%。", "6%－6.5%"),
        ("2019年GDP增长目标是多少？", "全市生产总值增长6%-6.5%。", "6%-6.5%"),
        ("2019年GDP增长目标是多少？", "全市生产总值增长6%—6.5%。", "6%—6.5%"),
        ("失业率要控制在多少？", "城镇调查失业率在5%以内。", "5%以内"),
        ("森林覆盖率的目标是多少？", "森林覆盖率达到18%以上。", "18%以上"),
        ("湖北2025年经济增长目标是多少", "经济增长6％左右。", "6％左右"),
        (
            "PM2.5浓度要控制在什么水平？",
            "PM2.5年平均浓度下降到35微克/立方米以下。",
            "35微克/立方米以下",
        ),
        ("海南2025年社会消费品零售总额增长目标", "社会消费品零售总额增长10%以上。", "10%以上"),
    ],
)
def test_percentages_ranges_and_qualifiers_as_written(
    question: str, sentence: str, expected: str
) -> None:
    assert answer(question, sentence) == expected


def test_the_figure_next_to_the_question_s_subject() -> None:
    sentence = "新增就业岗位5万个，新建养老床位800张。"
    assert answer("养老床位新增多少？", sentence) == "800张"
    assert answer("就业岗位新增多少？", sentence) == "5万个"
    # In a list of figures each is said with its own words.
    green = "新建绿地1200公顷、城市绿道200公里、立体绿化40万平方米。"
    assert answer("城市绿道建多少？", green) == "200公里"
    assert answer("立体绿化做多少？", green) == "40万平方米"
    # 分别: each figure belongs to its thing, in order.
    both = "跨国公司地区总部、外资研发中心分别新增222家和75家。"
    assert answer("新增了多少家外资研发中心？", both) == "75家"
    assert answer("新增了多少家跨国公司地区总部？", both) == "222家"
    # 和 parts two things as well.
    joined = "128万镇保参保人员和478.8万来沪从业人员加入职保。"
    assert answer("有多少来沪从业人员加入职保？", joined) == "478.8万"


def test_what_kind_of_figure_wins() -> None:
    gdp = "全市生产总值达到4.72万亿元，增长5%。"
    assert answer("2023年GDP增长了多少？", gdp) == "5%"
    assert answer("2023年GDP总量有多少？", gdp) == "4.72万亿元"
    # From … to: the figure reached.
    assert answer("轨道交通运营线路总长增加到了多少公里？", "总长从468公里增加到666公里。") == (
        "666公里"
    )
    # A round figure passed on the way is not the figure.
    assert answer("2021年GDP总量有多少？", "全市生产总值突破4万亿元大关，达到4.32万亿元。") == (
        "4.32万亿元"
    )
    # A multiple is second unless asked for.
    spaces = "各类众创空间超过500家，是五年前的5倍。"
    assert answer("上海各类众创空间有多少？", spaces) == "500家"
    assert answer("金融市场交易额增加了多少？", "金融市场交易额增加1.7倍。") == "1.7倍"
    # A total when asked for one, what was added otherwise.
    parks = "新增公园141座、累计达到973座。"
    assert answer("上海现在一共有多少座公园？", parks) == "973座"
    assert answer("去年新增了多少座公园？", parks) == "141座"


def test_no_figure_of_the_kind_asked_is_none() -> None:
    assert answer("新增多少张养老床位？", "新增就业岗位50万个。") is None
    assert answer("城镇调查失业率是多少？", "新增就业岗位50万个。") is None
    assert answer("增长了多少？", "经济运行稳中向好。") is None
    # Years, ordinals and codes are no figures.
    assert answer("PM2.5浓度是多少？", "2018年PM2.5浓度继续下降，C919首飞。") is None
    assert [
        "2018年PM2.5年平均浓度39微克/立方米，C919和G60、5G、“1+1+1”第46届"[f.start : f.end]
        for f in figures("2018年PM2.5年平均浓度39微克/立方米，C919和G60、5G、“1+1+1”第46届")
    ] == ["39微克/立方米"]


def test_the_best_sentence_that_fits_and_its_citation() -> None:
    doc, sents = quoted("坚持稳中求进工作总基调。", "全市生产总值增长6.6%。", "增长7%。")
    short = short_answer("2018年GDP增长了多少？", sents, "zh")
    assert short == ShortAnswer("6.6%", 2, sents[1][1] + 8, sents[1][1] + 12)
    assert doc[short.start : short.end] == "6.6%"
    assert short_answer("2018年GDP增长了多少？", [], "zh") is None


# ---- names, dates, lists -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("上海市市长 应勇", "应勇"),
        ("国务院总理　李　强", "李　强"),
        ("----2025年1月15日龚正市长在上海市第十六届人民代表大会第三次会议的政府工作报告", "龚正"),
        (
            "2025年1月14日在浙江省第十四届人民代表大会第三次会议上浙江省代省长刘捷作政府工作报告",
            "刘捷",
        ),
        (
            "2025年1月14日在北京市第十六届人民代表大会第三次会议上北京市市长 殷勇同志作报告",
            "殷勇",
        ),
        ("2025年1月16日省长 李乐成在辽宁省第十四届人民代表大会第三次会议上的讲话", "李乐成"),
    ],
)
def test_the_name_beside_an_office(sentence: str, expected: str) -> None:
    assert answer("这份政府工作报告是由谁作的？", sentence) == expected
    assert answer("Who delivered the report?", sentence, lang="en") == expected


def test_no_name_is_none() -> None:
    assert (
        answer(
            "报告希望谁能成为居民身边的健康守门人？",
            "让社区医院、家庭医生成为群众家门口的健康守护者。",
        )
        is None
    )
    # A name that no office stands beside is no answer to 谁.
    assert answer("谁牵头建设实验室？", "张江实验室、李政道研究所挂牌成立。") is None


def test_dates_as_specific_as_asked() -> None:
    venue = "——2018年1月23日在上海市第十五届人民代表大会第一次会议上"
    assert answer("这份政府工作报告是在哪一天作的？", venue) == "2018年1月23日"
    assert answer("报告是什么时候作的？", venue) == "2018年1月23日"
    assert answer("报告是哪一年作的？", venue) == "2018年"
    assert answer("On what date was the report presented?", venue, lang="en") == "2018年1月23日"
    assert answer("In what year was the report presented?", venue, lang="en") == "2018年"
    plan = "我们要把到2035年城市总体规划描绘的宏伟蓝图变成现实。"
    assert answer("城市总体规划描绘的是到哪一年的蓝图？", plan) == "2035年"
    assert answer("蓝图是哪一天定的？", plan) is None


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "报告列举了哪些相继问世的重大科技成果？",
            "C919大型客机、蛟龙号载人潜水器、墨子号量子卫星等重大科技成果相继问世。",
            "C919大型客机、蛟龙号载人潜水器、墨子号量子卫星",
        ),
        (
            "哪两个研究机构挂牌成立？",
            "以全球视野、国际标准建设张江综合性国家科学中心，张江实验室、李政道研究所挂牌成立。",
            "张江实验室、李政道研究所",
        ),
        (
            "2018年要推进哪些重大基础设施建设？",
            "推进北横通道、浦东国际机场三期、沪通铁路和沪苏湖铁路上海段等重大基础设施建设。",
            "北横通道、浦东国际机场三期、沪通铁路和沪苏湖铁路上海段",
        ),
        (
            "上海要用好哪三种文化资源？",
            "用好红色文化、海派文化、江南文化资源。",
            "红色文化、海派文化、江南文化资源",
        ),
        (
            "政府自身建设要围绕哪四类政府来展开？",
            "围绕服务政府、法治政府、创新政府、廉洁政府建设，切实履行职责。",
            "服务政府、法治政府、创新政府、廉洁政府",
        ),
        (
            "对国有企业提出了哪些要求？",
            "推动国有企业做强主业、做实创新、做响品牌。",
            "做强主业、做实创新、做响品牌",
        ),
        (
            "Which metro lines were completed?",
            "建成12号线、16号线、17号线等一批轨道交通线。",
            "12号线、16号线、17号线",
        ),
    ],
)
def test_a_short_list_as_written(question: str, sentence: str, expected: str) -> None:
    assert answer(question, sentence, lang="en" if question.isascii() else "zh") == expected


def test_a_list_too_long_or_of_another_count_is_none() -> None:
    seven = (
        "强化消防、轨道交通、道路交通、高层建筑、地下空间、人员密集场所、特种设备等领域的安全管理。"
    )
    assert answer("强化安全管理的重点领域有哪些？", seven) is None
    # The list the question is about is too long: no other list stands in for it.
    both = (
        "坚持水岸联动、干支流联治，"
        "强化消防、轨道交通、道路交通、高层建筑、地下空间等重点领域的安全管理。"
    )
    assert answer("强化安全管理的重点领域有哪些？", both) is None
    assert answer("哪三个研究机构挂牌成立？", "张江实验室、李政道研究所挂牌成立。") is None
    assert answer("有哪些重大活动？", "经济运行稳中向好。") is None


def test_a_sentence_that_says_none_of_the_question_s_words_gives_no_short_answer() -> None:
    growth = "今后五年，全市生产总值年均增长7.1%。"
    assert answer("上海的出租车起步价是多少？", growth) is None
    assert answer("全市生产总值年均增长多少？", growth) == "7.1%"
