# ruff: noqa: E501
"""Static tables for the sample-case builder: zones, industries, rules, county lists.

Every figure here is either from DOMAIN.md / domain-facts.md (cited in
gis_data/SOURCES.md) or illustrative (marked so there).
"""

from __future__ import annotations

# zone_id: (name, name_en, city, lon, lat, km2, positioning, source tag)
ZONES = {
    "HZ": ("杭州综合保税区", "Hangzhou CBZ", "杭州市", 120.33, 30.30, 2.41,
           "研发设计;加工制造;物流分拨;检测维修;销售服务", "domain"),
    "NBMS": ("宁波梅山综合保税区", "Ningbo Meishan CBZ", "宁波市", 121.97, 29.78, 5.69,
             "物流分拨;销售服务", "domain-facts weak"),
    "NBBL": ("宁波北仑港综合保税区", "Ningbo Beilun Port CBZ", "宁波市", 121.84, 29.92, 2.99,
             "加工制造;物流分拨;检测维修", "domain"),
    "NBQW": ("宁波前湾综合保税区", "Ningbo Qianwan CBZ", "宁波市", 121.24, 30.29, 2.20,
             "加工制造;研发设计;物流分拨", "illustrative"),
    "JX": ("嘉兴综合保税区", "Jiaxing CBZ", "嘉兴市", 120.73, 30.74, 2.98,
           "加工制造;物流分拨;销售服务", "illustrative"),
    "JY": ("金义综合保税区", "Jinyi CBZ", "金华市", 119.80, 29.15, 1.80,
           "物流分拨;销售服务;加工制造", "illustrative"),
    "YW": ("义乌综合保税区", "Yiwu CBZ", "金华市", 120.10, 29.33, 1.50,
           "物流分拨;销售服务", "illustrative"),
    "ZS": ("舟山港综合保税区", "Zhoushan Port CBZ", "舟山市", 122.08, 30.04, 5.85,
           "物流分拨;销售服务;检测维修", "domain-facts [I]"),
    "WZ": ("温州综合保税区", "Wenzhou CBZ", "温州市", 120.90, 27.95, 1.44,
           "加工制造;物流分拨;销售服务", "domain"),
    "SX": ("绍兴综合保税区", "Shaoxing CBZ", "绍兴市", 120.62, 30.05, 1.60,
           "加工制造;研发设计;物流分拨", "illustrative"),
    "TZ": ("台州综合保税区", "Taizhou CBZ", "台州市", 121.50, 28.62, 1.50,
           "加工制造;检测维修;物流分拨", "illustrative"),
    "HUZ": ("湖州综合保税区", "Huzhou CBZ", "湖州市", 120.16, 30.86, 1.60,
            "加工制造;物流分拨", "illustrative"),
    "QZ": ("衢州综合保税区", "Quzhou CBZ", "衢州市", 118.92, 28.97, 1.11,
           "加工制造;物流分拨", "domain"),
}  # fmt: skip

HZ_EXTENSION = (120.43, 30.23, 0.40)
"""Hangzhou's 0.40 km² extension block (临空经济示范区, approved Oct 2025), lon, lat, km²."""
HZ_EXTENSION_COUNTY = "萧山区"

# Per zone: land-use shares, vacant share, idle share, mean plot mu, tax level multiplier,
# cap tightness ("tight" | "medium" | "loose").
ZONE_PLAN = {
    "HZ": ({"M1": .30, "M0": .22, "W": .18, "RD": .12, "B": .10, "MIX": .08}, .08, .07, 7.5, 1.3, "tight"),
    "NBMS": ({"W": .38, "M1": .20, "B": .18, "MIX": .12, "M0": .07, "RD": .05}, .18, .10, 12.0, 1.1, "medium"),
    "NBBL": ({"M1": .50, "M0": .12, "W": .22, "RD": .05, "B": .06, "MIX": .05}, .10, .09, 8.0, 1.15, "tight"),
    "NBQW": ({"M1": .52, "M0": .15, "W": .18, "RD": .06, "B": .05, "MIX": .04}, .25, .10, 9.0, 1.0, "loose"),
    "JX": ({"M1": .45, "M0": .15, "W": .20, "RD": .07, "B": .07, "MIX": .06}, .17, .12, 9.0, 1.0, "medium"),
    "JY": ({"W": .35, "M1": .30, "B": .15, "M0": .08, "MIX": .08, "RD": .04}, .22, .12, 8.0, 0.9, "medium"),
    "YW": ({"W": .40, "B": .22, "M1": .20, "MIX": .10, "M0": .05, "RD": .03}, .14, .10, 6.5, 0.95, "tight"),
    "ZS": ({"W": .45, "M1": .25, "B": .15, "MIX": .08, "RD": .04, "M0": .03}, .24, .12, 13.0, 1.0, "loose"),
    "WZ": ({"M1": .45, "W": .20, "M0": .12, "B": .10, "RD": .07, "MIX": .06}, .28, .10, 7.0, 0.85, "medium"),
    "SX": ({"M1": .48, "M0": .15, "W": .17, "RD": .08, "B": .06, "MIX": .06}, .26, .10, 7.5, 0.9, "medium"),
    "TZ": ({"M1": .50, "W": .18, "M0": .12, "B": .08, "RD": .06, "MIX": .06}, .28, .11, 7.5, 0.9, "loose"),
    "HUZ": ({"M1": .50, "W": .18, "M0": .14, "RD": .06, "B": .06, "MIX": .06}, .30, .10, 8.0, 0.85, "loose"),
    "QZ": ({"M1": .50, "W": .20, "M0": .12, "RD": .06, "B": .06, "MIX": .06}, .50, .05, 8.0, 0.7, "loose"),
}  # fmt: skip

# Industry profiles: median 亩均税收 (万元/亩), VA/tax, energy tce per 万元 VA (综合能耗 at 等价值,
# electricity at 0.30 tce/MWh, the basis of the 亩均 单位能耗增加值), electricity share of that
# energy (electricity_mwh × 0.30 / energy_tce), emission multiplier (× 2e-4 t per 万元 VA),
# emission mix, R&D % of revenue (lo, hi), revenue/VA, labour productivity (万元 VA per person),
# service firm. Manufacturing intensities are set so that 规上 manufacturers' medians sit near
# Huangyan's 2022 benchmarks (单位能耗增加值 2.694 万元/tce ≈ 0.37 tce/万元); services and
# logistics use far less energy per 万元 (mostly electricity for offices and warehouses), cold
# chain and oil/chemical storage more (refrigeration, heating, pumping).
PROFILES = {
    "ic": (45, 6.5, 0.4, 0.85, 0.8, "general", (4, 8), 3.0, 35, False),
    "icd": (60, 5.5, 0.05, 0.95, 0.1, "service", (6, 8), 2.0, 45, True),
    "elec": (25, 6.5, 0.26, 0.85, 0.6, "general", (2.5, 5), 4.0, 22, False),
    "electrical": (22, 6.3, 0.24, 0.8, 0.5, "general", (2, 4.5), 4.2, 22, False),
    "appliance": (20, 6.0, 0.28, 0.8, 0.6, "general", (2, 4), 4.5, 20, False),
    "battery": (24, 6.0, 0.5, 0.85, 1.0, "general", (2.5, 5), 4.5, 25, False),
    "bio": (40, 7.0, 0.36, 0.7, 2.0, "water", (6, 8), 2.5, 40, False),
    "pharma": (35, 7.0, 0.42, 0.65, 2.5, "water", (4, 7), 2.8, 35, False),
    "api": (28, 6.5, 0.8, 0.5, 5.0, "water", (3, 6), 3.2, 28, False),
    "meddev": (30, 6.5, 0.22, 0.85, 0.5, "general", (4, 7), 3.0, 28, False),
    "chem": (30, 6.0, 1.0, 0.45, 6.0, "combustion", (1.5, 3.5), 5.0, 40, False),
    "mach": (18, 6.3, 0.28, 0.8, 0.6, "general", (2, 4.5), 4.0, 18, False),
    "auto": (20, 6.2, 0.32, 0.8, 0.7, "general", (2.5, 5), 4.8, 22, False),
    "ship": (14, 6.0, 0.38, 0.75, 1.0, "general", (1.5, 3.5), 4.5, 18, False),
    "repair": (15, 6.5, 0.22, 0.85, 0.5, "general", (1, 3), 2.5, 16, False),
    "instr": (24, 6.5, 0.18, 0.85, 0.4, "general", (4, 7), 3.2, 24, False),
    "textile": (11, 6.0, 0.9, 0.55, 8.0, "water", (0.8, 2.5), 4.5, 12, False),
    "fiber": (14, 5.5, 0.95, 0.5, 4.0, "combustion", (1, 2.5), 6.0, 25, False),
    "light": (10, 6.3, 0.28, 0.8, 0.8, "general", (0.5, 2.5), 4.5, 11, False),
    "plastics": (12, 6.2, 0.55, 0.8, 1.5, "general", (0.8, 2.5), 4.5, 14, False),
    "food": (12, 6.0, 0.45, 0.65, 4.0, "water", (0.5, 2), 4.5, 14, False),
    "ecom": (35, 4.5, 0.04, 0.95, 0.1, "service", (0, 3), 12, 45, True),
    "bizsvc": (40, 4.0, 0.03, 0.95, 0.05, "service", (0, 1.5), 3.0, 40, True),
    "trade": (30, 4.2, 0.03, 0.95, 0.05, "service", (0, 0.5), 15, 45, True),
    "commodity": (55, 4.0, 0.015, 0.95, 0.05, "service", (0, 0.3), 30, 80, True),
    "oiltrade": (70, 4.0, 0.015, 0.95, 0.05, "service", (0, 0.3), 30, 90, True),
    "autotrade": (35, 4.0, 0.04, 0.95, 0.08, "service", (0, 0.5), 15, 50, True),
    "logistics": (12, 5.5, 0.12, 0.75, 0.3, "service", (0, 1), 3.2, 16, True),
    "cold": (14, 5.5, 0.45, 0.9, 0.3, "service", (0, 1), 3.2, 16, True),
    "oilstore": (25, 5.5, 0.3, 0.6, 1.5, "combustion", (0, 1), 3.0, 35, True),
    "chemstore": (20, 5.5, 0.25, 0.6, 1.5, "combustion", (0, 1), 3.0, 30, True),
    "shipsupply": (18, 5.0, 0.1, 0.8, 0.3, "service", (0, 0.5), 6.0, 28, True),
    "rd": (22, 6.0, 0.08, 0.95, 0.2, "service", (5, 8), 1.6, 25, True),
    "testing": (16, 6.5, 0.1, 0.9, 0.2, "service", (3, 6), 1.8, 18, True),
    "software": (35, 5.5, 0.04, 0.95, 0.05, "service", (5, 8), 2.0, 35, True),
}

# Emission split (cod, nh3n, so2, nox) by mix.
EMISSION_MIX = {
    "general": (0.30, 0.05, 0.20, 0.45),
    "water": (0.60, 0.10, 0.10, 0.20),
    "combustion": (0.20, 0.03, 0.32, 0.45),
    "service": (0.70, 0.10, 0.05, 0.15),
}

# GB/T 4754-2017 code: (profile, name words)
INDUSTRIES = {
    "C3973": ("ic", ["微电子", "半导体", "芯片"]),
    "I6520": ("icd", ["芯片设计", "集成电路设计"]),
    "C3976": ("elec", ["光电", "光电子"]),
    "C3985": ("elec", ["电子材料", "电子新材料"]),
    "C3990": ("elec", ["电子科技", "电子"]),
    "C3921": ("elec", ["通信设备", "通信技术"]),
    "C3824": ("electrical", ["电力电子"]),
    "C3823": ("electrical", ["电气", "开关"]),
    "C3851": ("appliance", ["电器", "制冷设备"]),
    "C3852": ("appliance", ["空调设备", "环境电器"]),
    "C3841": ("battery", ["新能源电池", "锂电科技"]),
    "C2761": ("bio", ["生物制药", "生物科技"]),
    "C2720": ("pharma", ["制药", "药业"]),
    "C2710": ("api", ["原料药", "医药化工"]),
    "C3581": ("meddev", ["医疗器械", "医疗科技"]),
    "C2614": ("chem", ["化工", "化学"]),
    "C2651": ("chem", ["新材料", "树脂"]),
    "C3441": ("mach", ["泵业", "流体机械"]),
    "C3484": ("mach", ["精密机械", "机械制造"]),
    "C3670": ("auto", ["汽车零部件", "汽配"]),
    "C3612": ("auto", ["新能源汽车", "汽车"]),
    "C3734": ("ship", ["船舶配套", "船用设备"]),
    "C4342": ("repair", ["船舶修造", "船舶修理"]),
    "C4320": ("repair", ["设备维修", "机电维修"]),
    "C4360": ("repair", ["仪器维修", "检测维修"]),
    "C4011": ("instr", ["自动化", "仪器仪表"]),
    "C4014": ("instr", ["分析仪器", "精密仪器"]),
    "C1713": ("textile", ["印染", "纺织印染"]),
    "C1752": ("textile", ["化纤织造", "纺织"]),
    "C2822": ("fiber", ["化纤", "合纤"]),
    "C1952": ("light", ["鞋业", "皮鞋"]),
    "C2411": ("light", ["文具", "文教用品"]),
    "C2927": ("plastics", ["塑料制品", "日用塑料"]),
    "C2110": ("light", ["家具", "木业"]),
    "C1361": ("food", ["水产食品", "海洋食品"]),
    "F5292": ("ecom", ["跨境电子商务", "电子商务"]),
    "F5193": ("ecom", ["网络科技", "数字贸易"]),
    "L7299": ("bizsvc", ["商务服务", "企业管理"]),
    "F5131": ("trade", ["纺织品贸易", "进出口"]),
    "F5132": ("trade", ["服饰", "服装贸易"]),
    "F5135": ("trade", ["日用品", "小商品"]),
    "F5139": ("trade", ["家居用品", "家居"]),
    "F5141": ("trade", ["文体用品", "文化用品"]),
    "F5179": ("trade", ["电子产品贸易", "机电设备"]),
    "F5127": ("trade", ["食品进出口", "酒业"]),
    "F5164": ("commodity", ["金属材料", "大宗商品"]),
    "F5162": ("oiltrade", ["石油", "能源贸易", "燃料油"]),
    "F5261": ("autotrade", ["汽车贸易", "汽车销售"]),
    "G5920": ("logistics", ["仓储", "物流"]),
    "G5930": ("cold", ["冷链物流", "冷链"]),
    "G5941": ("oilstore", ["油品储运", "油气储运"]),
    "G5942": ("chemstore", ["化工仓储", "危化品仓储"]),
    "G5810": ("logistics", ["多式联运", "国际物流"]),
    "G5821": ("logistics", ["货运代理", "国际货代"]),
    "G5539": ("shipsupply", ["船舶供应", "船务"]),
    "G5431": ("logistics", ["运输", "供应链"]),
    "M7320": ("rd", ["技术研究院", "科技研发"]),
    "M7340": ("rd", ["医学研究", "医药研发"]),
    "M7452": ("testing", ["检测技术", "检验检测"]),
    "I6513": ("software", ["软件", "信息技术"]),
}

# Zone industry mixes for existing firms: code -> weight; codes after "|" are legacy
# industries outside the zone's catalogue (置换出区 candidates).
ZONE_MIX = {
    "HZ": (
        "C3973 10 I6520 6 C3976 4 C2761 8 C2720 5 C3581 6 M7340 3 F5292 10 F5193 6 "
        "L7299 3 G5920 7 G5821 5 G5810 2 M7452 4 C4360 2 C3990 4 I6513 3 "
        "| C1752 2 C2927 2 C3484 3"
    ),
    "NBMS": (
        "F5261 6 F5164 6 F5127 5 F5292 8 G5930 6 G5920 8 G5821 6 G5810 5 L7299 4 "
        "C3670 4 C3484 3 M7452 2 | C2927 2 C1713 1"
    ),
    "NBBL": (
        "C3441 8 C3484 8 C3823 5 C3851 6 C3921 4 C3990 5 C3670 6 C2614 4 C2651 3 "
        "G5920 7 G5821 5 G5810 3 C4320 3 M7452 2 F5179 4 M7320 2 | C2110 2 C1752 2"
    ),
    "NBQW": (
        "C3612 6 C3670 10 C3851 8 C3852 5 C3484 6 C3990 4 C3841 4 G5920 6 G5821 4 "
        "F5179 3 M7320 3 M7452 2 | C1713 2 C2927 3"
    ),
    "JX": (
        "C3973 6 C3976 6 C3990 5 C3670 7 C3484 5 C3841 4 C2651 3 G5920 6 G5821 4 "
        "F5179 4 F5292 4 M7320 2 M7452 2 | C1752 3 C2110 2"
    ),
    "JY": (
        "F5292 10 F5193 8 F5135 5 G5920 8 G5821 5 G5431 3 C4011 6 C4014 3 C3612 4 "
        "C3670 5 C2411 3 M7452 2 M7320 2 | C2927 3 C1952 2"
    ),
    "YW": (
        "F5135 10 F5139 8 F5141 6 F5132 6 F5131 5 F5193 8 F5292 8 G5920 10 G5821 6 "
        "G5431 3 C2411 3 C2927 3 L7299 3 M7452 2 | C1752 2 C2110 2"
    ),
    "ZS": (
        "G5941 10 G5942 4 F5162 10 G5539 7 C4342 6 C3734 5 C1361 4 G5920 5 G5930 4 "
        "G5821 4 F5164 3 M7452 2 L7299 2 M7320 2 | C2927 2 C2614 2"
    ),
    "WZ": (
        "C3823 8 C3824 4 C1952 6 C3484 6 C3441 4 C4011 4 F5132 4 F5292 6 G5920 6 "
        "G5821 4 M7452 3 C3990 3 M7320 2 | C1713 2 C2927 3"
    ),
    "SX": (
        "C3973 8 C3976 4 C1752 6 C2822 4 C2720 4 C3484 5 F5131 5 F5292 4 G5920 6 "
        "G5821 4 M7452 2 M7320 2 | C1713 4 C2110 2"
    ),
    "TZ": (
        "C2720 8 C2710 4 C3581 5 C3670 7 C3484 6 C3441 4 C3851 5 C2927 4 G5920 6 "
        "G5821 4 F5292 3 M7452 3 M7320 2 | C1713 2 C2110 2"
    ),
    "HUZ": (
        "C3841 8 C3670 6 C3484 6 C3612 3 C2110 5 C4011 3 C3990 4 G5920 7 G5821 4 "
        "F5292 3 M7320 2 M7452 2 | C1752 3 C2927 2"
    ),
    "QZ": (
        "C3985 7 C3841 7 C2614 5 C2651 4 C3484 5 C3990 4 G5920 7 G5821 4 F5292 3 "
        "M7452 2 M7320 2 | C2927 3 C1713 2"
    ),
}


def parse_mix(text: str) -> tuple[dict[str, float], dict[str, float]]:
    """Return (catalogue industries, legacy industries) as code -> weight."""
    main, _, legacy = text.partition("|")

    def pairs(s: str) -> dict[str, float]:
        tok = s.split()
        return {tok[i]: float(tok[i + 1]) for i in range(0, len(tok), 2)}

    return pairs(main), pairs(legacy)


# Which GB/T 4754 prefixes each land use admits (DOMAIN.md / MODEL.md eligibility).
LAND_USE_RULES = {
    "M1": ["C"],
    "M0": ["C39", "C40", "C27", "C358", "C34", "C38", "C36", "M73", "M745", "I65"],
    "W": ["G54", "G55", "G58", "G59", "F51", "F52"],
    "RD": ["M73", "M74", "M75", "I65", "I64"],
    "B": ["F", "L", "I", "M", "G58"],
    "MIX": ["C39", "C40", "C27", "C34", "C38", "F", "G58", "G59", "I", "L", "M"],
}

# 生态环境准入清单 by category (and a few unit-scoped rules added by the builder).
CATEGORY_RULES = [
    ("priority_protection", "C", "prohibit", "优先保护单元禁止新建、扩建工业项目"),
    ("priority_protection", "B", "prohibit", "优先保护单元禁止采矿"),
    ("priority_protection", "G594", "prohibit", "优先保护单元禁止危险品仓储"),
    ("general", "C25", "prohibit", "一般管控单元禁止新建三类工业项目：石油加工"),
    ("general", "C26", "prohibit", "一般管控单元禁止新建三类工业项目：化学原料和化学制品"),
    ("general", "C2710", "prohibit", "一般管控单元禁止新建化学原料药项目"),
    ("general", "C1713", "restrict", "印染项目须入园集聚、减量置换"),
    ("general", "C1752", "restrict", "印染项目须入园集聚、减量置换"),
    ("general", "G5942", "prohibit", "一般管控单元禁止新建危险化学品仓储"),
    ("key_control", "C2511", "restrict", "石油加工仅限产业集聚类重点管控单元，须区域削减替代"),
    ("key_control", "C26", "restrict", "化工项目须满足区域污染物削减替代要求"),
    ("key_control", "C2822", "restrict", "化纤项目须满足能效标杆水平"),
]

# 山区26县 (domain-facts.md §7): original 26, the Aug 2024 and May 2025 changes.
MOUNTAIN_26 = {
    "杭州市": ["淳安县"],
    "温州市": ["永嘉县", "平阳县", "苍南县", "文成县", "泰顺县"],
    "金华市": ["武义县", "磐安县"],
    "衢州市": ["柯城区", "衢江区", "江山市", "常山县", "开化县", "龙游县"],
    "台州市": ["三门县", "天台县", "仙居县"],
    "丽水市": ["莲都区", "龙泉市", "青田县", "云和县", "庆元县", "缙云县", "遂昌县", "松阳县",
               "景宁畲族自治县"],
}  # fmt: skip
LIST_START = "2021-07-01"
OUT_AUG_2024 = ["平阳县", "柯城区", "莲都区"]
IN_AUG_2024 = {"洞头区": "温州市", "嵊泗县": "舟山市"}
AUG_2024 = "2024-08-01"
OUT_MAY_2025 = ["永嘉县", "苍南县", "江山市"]
MAY_2025 = "2025-05-28"
