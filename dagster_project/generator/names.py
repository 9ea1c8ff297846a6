"""Chinese names and addresses (all characters encodable in GBK)."""

from __future__ import annotations

import numpy as np

from .columns import AddressCol, PersonNames

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红建国文辉力斌宇浩凯鹏飞云海波林峰春梅晨"
    "欣怡嘉琪子涵雨轩俊博志诚永庆福德才秋菊桂香金凤小龙"
)
TOWNS = [
    "城关镇",
    "东湖街道",
    "西溪镇",
    "南山乡",
    "北岭镇",
    "清河镇",
    "柳塘乡",
    "石桥镇",
    "白沙街道",
    "青林乡",
]
VILLAGES = [
    "新村",
    "前进村",
    "和平村",
    "联丰村",
    "永安村",
    "大湾村",
    "上塘村",
    "下洋村",
    "红星社区",
    "桃园社区",
]
SHOPS = [
    "五金加工厂",
    "超市",
    "小吃店",
    "农资经营部",
    "汽修厂",
    "服装厂",
    "酒店",
    "幼儿园",
    "卫生院",
    "砖瓦厂",
    "茶叶加工厂",
    "物流有限公司",
]
SHOP_WORDS = [
    "鑫达",
    "恒通",
    "兴旺",
    "永盛",
    "宏发",
    "金鼎",
    "瑞丰",
    "华美",
    "百佳",
    "顺达",
    "绿源",
    "天成",
]
FIRMS = [
    "机械制造有限公司",
    "纺织有限公司",
    "新材料科技有限公司",
    "水泥有限公司",
    "食品有限公司",
    "化工有限公司",
]


def person_names(rng: np.random.Generator, n: int) -> PersonNames:
    s = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.7
    return PersonNames(s, g1, g2, two, SURNAMES, GIVEN)


def shop_names(rng: np.random.Generator, n: int, place: str = "青山") -> np.ndarray:
    out = []
    for _ in range(n):
        w = SHOP_WORDS[rng.integers(len(SHOP_WORDS))]
        s = SHOPS[rng.integers(len(SHOPS))]
        r = rng.random()
        if r < 0.05:  # exercises RFC 4180 quoting: comma inside a field
            out.append(f"{place}市{w}{s}(一期,二号楼)")
        elif r < 0.08:  # and a double quote inside a field
            out.append(f'"{w}"{s}')
        else:
            out.append(f"{place}{w}{s}")
    return np.array(out, dtype=object)


def firm_names(rng: np.random.Generator, n: int, place: str = "青山") -> np.ndarray:
    return np.array(
        [
            f"{place}{SHOP_WORDS[rng.integers(len(SHOP_WORDS))]}{FIRMS[rng.integers(len(FIRMS))]}"
            for _ in range(n)
        ],
        dtype=object,
    )


def addresses(rng: np.random.Generator, county: np.ndarray, counties, n: int) -> AddressCol:
    """青山市 + county (index into `counties`) + town + village + house number + 号."""
    t = rng.integers(0, len(TOWNS), n)
    v = rng.integers(0, len(VILLAGES), n)
    h = rng.integers(1, 300, n)
    return AddressCol(county, t, v, h, counties, TOWNS, VILLAGES)
