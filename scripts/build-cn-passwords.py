"""Build rules/data/common-passwords-cn.txt.gz: Chinese-style passwords the policy refuses.

No large Chinese password list ships in a package this project can install, so this list has
two parts (rules/data/README.md says the same):

1. PUBLISHED: the Chinese section of pii2pw's `COMMON_WEAK_PASSWORDS` (PyPI package pii2pw
   0.1.0, `pii2pw/data/common_passwords.py`, MIT licence, drawn by its author from published
   analyses of Chinese password corpora), copied below unchanged.
2. COMPILED here from the patterns that the published studies of Chinese leaks (the 2011
   CSDN, Tianya, Dodonew, 7k7k and 178 leaks; Li, Han & Xu, USENIX Security 2014; Wang et
   al., "Targeted online password guessing", CCS 2016) report as the most frequent: pinyin
   surnames and words followed by digits, "I love you" in pinyin (woaini), the number codes
   of love (520 "I love you", 1314 "for a lifetime"), lucky and repeated digits, keyboard walks
   and birth dates written YYYYMMDD.

Only entries of 8 characters or more are kept: shorter ones are refused by length already.
Run `python scripts/build-cn-passwords.py` to rebuild; the output is deterministic.
"""

import datetime as dt
import gzip
import itertools
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "rules", "data", "common-passwords-cn.txt.gz")

# Part 1: published (pii2pw 0.1.0, MIT), the "Chinese-common" entries, unchanged.
PII2PW_CHINESE = [
    "5201314", "1314520", "520520", "521521", "woaini",
    "woaini1314", "woaini520", "aini1314", "123456a", "a123456789",
    "168168", "1231231", "11223344", "147258369", "123321",
    "789456123", "159357", "147258", "159753", "456789",
    "asd123456", "qwe123456", "abc123456", "zxc123456", "q1w2e3r4",
    "wang123", "li123456", "zhang123", "chen123", "liu123",
    "woshishui", "nihao123", "zhongguo", "beijing", "shanghai",
    "taobao", "qqqqqq", "woaimama", "buzhidao", "meiyoumima",
]  # fmt: skip


def words(text: str) -> list[str]:
    """The whitespace-separated entries of a block of text (long lists stay readable)."""
    return text.split()


# Part 2: compiled patterns.
# The 100 most common surnames (百家姓 by population), in pinyin without tones.
SURNAMES = words("""wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he
gao lin luo
zheng liang xie song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai jia
ding wei xue ye yan lu du dai xia zhong fu wan hou qin qiu shen ren jin fan shi yao tan liao
zou xiong kong bai cui kang mao qiu qian gu meng long hao shao wan duan lei qian tang yin
yi chang wu qiao lai gong wen pang fang zhan ou ni""")
# Pinyin words that recur in the published top lists.
WORDS = words("""woaini woaiwojia woaimama woaibaba woailaopo woailaogong woaibaobao woaizhongguo
woainima woaini1 aini aiqing xingfu kuaile tiantian xiaoxiao zhongguo beijing shanghai
taobao baidu tianya dearbook qqqq mima wodemima nihao woshishui buzhidao meiyoumima
laopo laogong baobao shuaige meinv xiaobao xiaoming xiaohong zhangsan lisi wangwu
iloveyou loveyou china huawei xiaomi password admin abc qq wo""")
# Digit endings people append (sequences, love codes 520/521/1314, lucky 6 and 8).
ENDINGS = words("""1 12 123 1234 12345 123456 1234567 12345678 123456789 520 521 1314 5201314
1314520 666 888 6666 8888 666666 888888 000 111 110 119 007 168 123123 123321 520520
521521 88 66 99 00 11""")
# Keyboard walks and number pads, as the studies list them.
WALKS = words("""qwertyui qwertyuiop asdfghjk asdfghjkl zxcvbnm zxcvbnm123 1qaz2wsx 1qaz2wsx3edc
qazwsxedc qweasdzxc zaq12wsx 1q2w3e4r 1q2w3e4r5t q1w2e3r4 q1w2e3r4t5 123qweasd qweasd123
147258369 159357456 741852963 789456123 963852741 147852369 123698745 qwe123456 asd123456
zxc123456 abc123456 a123456789 aa123456 aaa123456 123456aa 123456abc abcd1234 abcd123456
1234qwer qwer1234 asdf1234 1234asdf woaini123 5201314a a5201314 123456qq qq123456""")
# The love codes and digit blocks that are combined in the top lists (5201314520, 1314521...).
CODES = words("520 521 1314 5201314 1314520 530 147 258 369 123 456 789 888 666")


def digits() -> set[str]:
    """Repeated digits, runs up and down, and birth dates YYYYMMDD from 1940 to 2015."""
    out = set()
    for d in "0123456789":
        out.update(d * n for n in range(8, 13))
    up, down = "12345678901234567890", "98765432109876543210"
    for n in range(8, 13):
        out.update(s[i : i + n] for s in (up, down) for i in range(10))
    day = dt.date(1940, 1, 1)
    while day.year <= 2015:
        out.add(day.strftime("%Y%m%d"))
        day += dt.timedelta(days=1)
    return out


def build() -> list[str]:
    """Every entry, lower case, 8 characters or more, sorted."""
    out = set(PII2PW_CHINESE) | set(WALKS) | set(WORDS) | digits()
    for stem in SURNAMES + WORDS:
        out.update(stem + end for end in ENDINGS)
        out.update(end + stem for end in ("520", "1314", "5201314"))
    years = [str(y) for y in range(1950, 2016)]
    for stem in SURNAMES + WORDS[:20]:
        out.update(stem + y for y in years)
    for a, b in itertools.product(CODES, repeat=2):
        out.add(a + b)
    for a, b, c in itertools.product(CODES[:5], repeat=3):
        out.add(a + b + c)
    return sorted(p for p in out if len(p) >= 8)


def main() -> None:
    """Write the gzip file deterministically (no timestamp in the header)."""
    entries = build()
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(("\n".join(entries) + "\n").encode())
    print(f"{len(entries)} entries -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
