"""Words the simulator draws from: Sichuan cities, industries, names, products, notes."""

from __future__ import annotations

import numpy as np

# (city, administrative code that prefixes its group ids, share of groups)
REGIONS = [
    ("成都", 510100, 0.38), ("绵阳", 510700, 0.07), ("德阳", 510600, 0.06),
    ("南充", 511300, 0.06), ("宜宾", 511500, 0.05), ("泸州", 510500, 0.05),
    ("达州", 511700, 0.05), ("乐山", 511100, 0.04), ("内江", 511000, 0.03),
    ("自贡", 510300, 0.03), ("眉山", 511400, 0.03), ("遂宁", 510900, 0.03),
    ("广安", 511600, 0.03), ("资阳", 512000, 0.02), ("广元", 510800, 0.02),
    ("巴中", 511900, 0.02), ("雅安", 511800, 0.02), ("攀枝花", 510400, 0.01),
]  # fmt: skip

# (industry, word in the company name, share of groups, size factor, minutes factor,
#  share of migrant-worker lines, churn hazard factor)
INDUSTRIES = [
    ("制造业", "机械制造", 0.14, 1.4, 1.0, 0.30, 1.0),
    ("批发零售", "商贸", 0.20, 0.7, 0.9, 0.05, 1.25),
    ("建筑业", "建筑工程", 0.09, 1.5, 1.2, 0.45, 1.15),
    ("餐饮住宿", "餐饮管理", 0.10, 0.8, 0.8, 0.25, 1.35),
    ("信息技术", "科技", 0.10, 0.9, 1.1, 0.02, 1.05),
    ("交通物流", "物流", 0.08, 1.1, 1.4, 0.20, 1.1),
    ("教育培训", "教育咨询", 0.06, 0.9, 0.9, 0.02, 0.8),
    ("医疗卫生", "医疗器械", 0.05, 1.1, 0.9, 0.03, 0.7),
    ("金融保险", "投资咨询", 0.05, 1.0, 1.3, 0.01, 0.8),
    ("农业", "农业开发", 0.05, 0.8, 0.7, 0.15, 1.1),
    ("政府机关", "服务中心", 0.03, 1.8, 0.9, 0.01, 0.45),
    ("房地产", "房地产开发", 0.05, 1.0, 1.2, 0.05, 1.1),
]  # fmt: skip

BRAND = list(
    "鑫华盛达兴隆泰和信恒通瑞丰源宏金佳嘉德茂创科博天蜀锦川汇诚安顺宇荣辉弘明新星光中远志永康"
)
SUFFIX = ["有限公司", "有限责任公司", "股份有限公司"]

SURNAMES = list("王李张刘陈杨黄赵周吴徐孙胡朱高林何郭罗梁宋郑谢唐韩冯邓曹彭曾肖田蒋")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玲飞鹏宇浩琳婷雪梅")

PRODUCTS = np.array(
    ["彩铃", "集团短信", "流量包10GB", "视频会员", "来电提醒", "和留言", "云盘", "集团彩铃",
     "商务助理", "手机报"]  # fmt: skip
)

COMPLAINT_CATEGORIES = np.array(["sp", "network", "billing", "service"])

INTEL_KINDS = np.array(["exit_intent", "competitor_offer"])
INTEL_NOTES = {
    "exit_intent": [
        "联络人反映单位考虑整体转网",
        "关键人表示协议到期后不再续约",
        "联络员称领导在比较其他运营商的集团网",
        "客户称话费太贵准备换网",
        "单位搬迁，联络人表示可能停用",
    ],
    "competitor_offer": [
        "竞争对手上门推介集团V网",
        "对方承诺免费赠送终端",
        "竞争对手提供同行业折扣套餐",
        "竞争对手宽带加手机捆绑优惠",
        "友商客户经理多次拜访关键人",
    ],
}


def pick(rng: np.random.Generator, items, n: int) -> np.ndarray:
    """Draw ``n`` items uniformly (as a numpy array of the items)."""
    return np.asarray(items)[rng.integers(0, len(items), n)]


def company_names(rng: np.random.Generator, city: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Names such as 成都鑫达科技有限公司, vectorised."""
    n = len(city)
    brand = np.char.add(pick(rng, BRAND, n), pick(rng, BRAND, n))
    suffix = pick(rng, SUFFIX, n)
    out = np.char.add(np.char.add(city.astype("U"), brand), word.astype("U"))
    return np.char.add(out, suffix)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Names such as 王芳 or 李建华."""
    two = np.char.add(pick(rng, GIVEN, n), pick(rng, GIVEN, n))
    given = np.where(rng.random(n) < 0.6, two, pick(rng, GIVEN, n))
    return np.char.add(pick(rng, SURNAMES, n), given)
