"""Real-looking paragraphs in several scripts (written for these tests) and realistic edits."""

from __future__ import annotations

import random

# Four unrelated paragraphs per language: news, weather, a recipe, a notice.
ARTICLES: dict[str, list[str]] = {
    "zh": [
        "市图书馆昨天宣布，从下个月起将延长周末开放时间，周六和周日晚上将开放到九点。馆长表示，"
        "近年来前来自习的学生越来越多，尤其是在考试季，阅览室常常一座难求。为此，图书馆还将在三楼"
        "新增两百个座位，并更换更明亮的照明设备。市民可以通过官方网站或手机应用提前预约座位。",
        "气象台发布消息称，受冷空气影响，本周后半段全市气温将明显下降，最低气温可能跌至零下五度，"
        "部分山区还会出现降雪。专家提醒市民注意添衣保暖，老人和儿童尽量减少夜间外出。交通部门也"
        "表示，将提前做好道路除冰准备，确保主要干道在降雪期间保持畅通。",
        "做红烧肉的时候，先把五花肉切成大小均匀的方块，放入冷水锅中焯水，撇去浮沫后捞出沥干。锅里"
        "放少量油，加入冰糖小火炒出焦糖色，再把肉块倒进去翻炒上色。然后加入生抽、老抽、料酒和葱姜，"
        "倒入没过肉的热水，盖上锅盖炖一个小时，最后大火收汁即可出锅。",
        "本小区将于下周二上午八点至下午五点进行供水管道检修，届时一号楼至六号楼将暂停供水。请各位"
        "业主提前做好储水准备，关闭家中水龙头，以免恢复供水时造成浪费或漏水。如有特殊困难，请与物业"
        "服务中心联系，我们将尽力提供帮助。给您带来的不便，敬请谅解。",
    ],
    "ja": [
        "市立図書館は昨日、来月から週末の開館時間を延長すると発表した。土曜日と日曜日は午後九時まで"
        "開館する。館長によると、ここ数年、自習に訪れる学生が増えており、特に試験期間中は閲覧室の席が"
        "なかなか空かないという。図書館は三階に二百席を新設し、照明もより明るいものに取り替える予定だ。",
        "気象台によると、寒気の影響で今週後半は気温が大きく下がり、最低気温は氷点下五度まで下がる"
        "見込みだ。山沿いでは雪が降る所もあるという。専門家は、暖かい服装を心がけ、お年寄りや子どもは"
        "夜間の外出をできるだけ控えるよう呼びかけている。道路の凍結にも十分な注意が必要だ。",
        "肉じゃがを作るときは、まずじゃがいもとにんじんを一口大に切り、玉ねぎはくし形に切っておく。"
        "鍋に油を熱して牛肉を炒め、色が変わったら野菜を加えてさらに炒める。だし汁、砂糖、みりん、"
        "しょうゆを入れて落としぶたをし、弱火で二十分ほど煮込めば、味のよくしみた肉じゃがの完成だ。",
        "来週火曜日の午前八時から午後五時まで、マンションの給水管の点検を行います。その間、一号棟から"
        "六号棟までは断水となりますので、あらかじめ水をくみ置きしてください。蛇口は必ず閉めておいて"
        "ください。ご不明な点は管理事務所までお問い合わせください。ご協力をお願いいたします。",
    ],
    "ko": [
        "시립도서관은 다음 달부터 주말 개관 시간을 연장한다고 어제 발표했다. 토요일과 일요일에는 "
        "오후 아홉 시까지 문을 연다. 관장은 최근 몇 년 사이 공부하러 오는 학생이 크게 늘었고, 특히 "
        "시험 기간에는 열람실 자리를 구하기 어렵다고 말했다. 도서관은 삼층에 좌석 이백 개를 새로 "
        "마련하고 조명도 더 밝은 것으로 바꿀 예정이다.",
        "기상청에 따르면 찬 공기의 영향으로 이번 주 후반에는 기온이 크게 떨어져 최저 기온이 영하 "
        "오 도까지 내려갈 전망이다. 산간 지역에는 눈이 내리는 곳도 있겠다. 전문가들은 따뜻한 옷차림을 "
        "하고 노인과 어린이는 밤늦은 외출을 삼가 달라고 당부했다.",
        "된장찌개를 끓일 때는 먼저 멸치와 다시마로 육수를 낸다. 감자와 호박, 양파를 먹기 좋은 크기로 "
        "썰어 넣고 된장을 풀어 중간 불에서 끓인다. 채소가 익으면 두부와 청양고추를 넣고 한소끔 더 "
        "끓인 뒤 대파를 올려 마무리한다.",
        "다음 주 화요일 오전 여덟 시부터 오후 다섯 시까지 아파트 급수관 점검이 있을 예정입니다. "
        "점검 시간 동안 일동부터 육동까지 단수되오니 미리 물을 받아 두시기 바랍니다. 문의 사항은 "
        "관리사무소로 연락해 주십시오.",
    ],
    "th": [
        "ห้องสมุดประจำเมืองประกาศเมื่อวานนี้ว่าจะขยายเวลาเปิดทำการในวันหยุดสุดสัปดาห์ตั้งแต่เดือนหน้า"
        "เป็นต้นไป โดยวันเสาร์และวันอาทิตย์จะเปิดถึงสามทุ่ม ผู้อำนวยการกล่าวว่าในช่วงสอบนักศึกษามาใช้"
        "บริการจำนวนมากจนที่นั่งในห้องอ่านหนังสือไม่เพียงพอ",
        "กรมอุตุนิยมวิทยาแจ้งว่าอากาศเย็นจะแผ่ลงมาปกคลุมในช่วงปลายสัปดาห์นี้ ทำให้อุณหภูมิลดลงอย่าง"
        "ชัดเจน ยอดดอยบางแห่งอาจมีน้ำค้างแข็ง ผู้เชี่ยวชาญแนะนำให้ประชาชนสวมเสื้อผ้าให้ความอบอุ่นและ"
        "ดูแลสุขภาพของผู้สูงอายุและเด็กเล็ก",
    ],
    "en": [
        "The city library announced yesterday that it will extend its weekend opening hours from "
        "next month, staying open until nine in the evening on Saturdays and Sundays. According to "
        "the director, more and more students come to study there, and during exam season a seat in "
        "the reading room is hard to find. The library will add two hundred seats on the third floor "
        "and replace the lighting with brighter lamps. Seats can be booked in advance online.",
        "Forecasters say a cold front will push temperatures sharply lower in the second half of the "
        "week, with overnight lows of minus five degrees and snow likely in the hills. Experts urge "
        "residents to dress warmly and advise older people and young children to avoid going out "
        "late at night, while the roads department is preparing gritters for the main routes.",
        "To make a simple tomato sauce, warm a generous splash of olive oil in a wide pan and soften "
        "a chopped onion with a pinch of salt for about ten minutes. Add two cloves of garlic, cook "
        "for one more minute, then pour in the tomatoes and a little water. Let everything simmer "
        "gently for half an hour, stirring now and then, and season with basil before serving.",
        "Water supply pipes in the building will be inspected next Tuesday between eight in the "
        "morning and five in the afternoon, and blocks one to six will have no running water during "
        "that time. Please store enough water beforehand and keep your taps closed to avoid leaks "
        "when the supply is restored. Contact the management office if you need any help.",
    ],
    "ru": [
        "Городская библиотека вчера объявила, что со следующего месяца продлит часы работы по "
        "выходным: в субботу и воскресенье она будет открыта до девяти вечера. По словам директора, "
        "в последние годы студентов, которые приходят заниматься, становится всё больше, и во время "
        "сессии свободное место в читальном зале найти почти невозможно. На третьем этаже появятся "
        "двести новых мест, а освещение заменят на более яркое.",
        "Синоптики предупреждают, что из-за холодного воздуха во второй половине недели температура "
        "заметно понизится, ночью до минус пяти градусов, а в горах возможен снег. Специалисты "
        "советуют одеваться теплее, а пожилым людям и детям по возможности не выходить из дома "
        "поздно вечером. Дорожные службы готовят технику к уборке главных улиц.",
    ],
    "ar": [
        "أعلنت مكتبة المدينة أمس أنها ستمدد ساعات العمل في عطلة نهاية الأسبوع ابتداء من الشهر المقبل، "
        "إذ ستبقى مفتوحة حتى التاسعة مساء يومي السبت والأحد. وقال المدير إن عدد الطلاب الذين يأتون "
        "للمذاكرة يزداد عاما بعد عام، وإن العثور على مقعد في قاعة المطالعة خلال فترة الامتحانات أصبح "
        "صعبا للغاية. وستضيف المكتبة مئتي مقعد جديد في الطابق الثالث.",
        "توقعت الأرصاد الجوية أن تنخفض درجات الحرارة بشكل ملحوظ في النصف الثاني من الأسبوع بسبب "
        "كتلة هوائية باردة، وقد تصل درجة الحرارة الصغرى إلى خمس درجات تحت الصفر مع احتمال تساقط "
        "الثلوج على المرتفعات. ونصح الخبراء المواطنين بارتداء الملابس الدافئة وتجنب الخروج ليلا.",
    ],
}


def edit(text: str, n: int, rng: random.Random) -> str:
    """``n`` small realistic edits: a character replaced, inserted or deleted (taken from the text
    itself, so the script does not change), or, in spaced scripts, a word swapped for another."""
    chars = list(text)
    words = text.split()
    for _ in range(n):
        op = rng.choice(["replace", "insert", "delete", "word"] if len(words) > 5 else ["replace"])
        i = rng.randrange(len(chars))
        if op == "replace":
            chars[i] = rng.choice(chars)
        elif op == "insert":
            chars.insert(i, rng.choice(chars))
        elif op == "delete":
            del chars[i]
        else:
            text2 = "".join(chars).split(" ")
            j = rng.randrange(len(text2))
            text2[j] = rng.choice(words)
            chars = list(" ".join(text2))
    return "".join(chars)


SPACED = {"en", "ru", "ar"}  # one edit there changes up to ngram shingles of ~60


def corpus(rng: random.Random, copies: int = 2) -> list[tuple[str, str, str]]:
    """``(id, text, original id)`` rows: each article, then ``copies`` edited copies of it (one
    edit in spaced scripts, two in the others: about the same share of shingles changes)."""
    rows = []
    for lang, arts in ARTICLES.items():
        for k, text in enumerate(arts):
            oid = f"{lang}-{k}"
            rows.append((oid, text, oid))
            for c in range(copies):
                rows.append((f"{oid}-copy{c}", edit(text, 1 if lang in SPACED else 2, rng), oid))
    return rows
