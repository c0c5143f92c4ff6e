"""Word and domain lists the customer matcher reads company names and web domains with.

Kept apart from the algorithm so they can be reviewed and extended as data. Every word is in
normalised form: lower case, ASCII, no punctuation (``S.A.`` is ``sa``, ``Int'l`` is ``intl``).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    """The lists below are written as running text: easier to read and extend than literals."""
    return frozenset(text.split())


#: Legal forms, stripped from the end of a name: they say how a company is incorporated, not
#: which company it is, and CRMs disagree about writing them. ``na`` is a US national
#: association (``Citibank, N.A.``); ``sabcv``/``sacv`` are Mexican forms typed with spaces.
LEGAL_FORMS: frozenset[str] = _words(
    """
    inc incorporated corp corporation co company companies cos ltd limited llc llp lp lllp plc
    pllc lc gmbh mbh ag kg kgaa ohg ug sa sas sasu sarl sca sab cv sacv sabcv srl spa sl slu sau
    ltda bv bvba nv vof kk gk yk oy oyj ab publ asa as aps se sro zrt kft nyrt doo ooo oao zao
    pao pjsc jsc ojsc pte pty pvt private bhd sdn tbk na
    """
)

#: Words that say how big or how grouped a company is. Stripped only from the end of a name
#: and never down to nothing, so "Honeywell International" reads as "Honeywell" while
#: "Global Payments" keeps its first word. Short region tags are here for the same reason
#: ("Acme Analytics EMEA").
TRAILING_NOISE: frozenset[str] = _words(
    """
    group groupe grupo gruppe holding holdings international worldwide global
    emea apac latam amer uk usa us eu
    """
)

#: Words stripped from the start of a name ("The Boeing Company", "Groupe Renault").
LEADING_NOISE: frozenset[str] = frozenset({"the", "group", "groupe", "grupo", "gruppe"})

#: Function words dropped anywhere but at the start of a name: "Bank of America" and
#: "Bank America" are the same customer, while "De Beers" and "La Poste" keep their article.
STOPWORDS: frozenset[str] = _words(
    "of the and und et for at de der des du la le les del di da do dos en"
)

#: Business abbreviations, read as the word they stand for on both sides of a comparison. The
#: word they become is the longest usual spelling, so a typo in that spelling on the other side
#: ("Technolgies") still pairs with it.
ABBREVIATIONS: dict[str, str] = {
    "intl": "international",
    "natl": "national",
    "mfg": "manufacturing",
    "mgmt": "management",
    "mgt": "management",
    "svc": "services",
    "svcs": "services",
    "tech": "technologies",
    "technology": "technologies",
    "lab": "laboratories",
    "labs": "laboratories",
    "laboratory": "laboratories",
    "ctr": "center",
    "centre": "center",
    "univ": "university",
    "assn": "association",
    "assoc": "association",
    "hosp": "hospital",
    "dept": "department",
    "bros": "brothers",
    "mt": "mount",
    "st": "saint",
    "ft": "fort",
    "cie": "compagnie",
    "engr": "engineering",
    "engg": "engineering",
    "constr": "construction",
    "ins": "insurance",
    "sys": "systems",
    "inst": "institute",
    "grp": "group",
    "hldg": "holdings",
    "hldgs": "holdings",
    "pharma": "pharmaceuticals",
    "pharmaceutical": "pharmaceuticals",
}

#: Letters Unicode does not decompose into a base letter plus an accent.
TRANSLITERATIONS: dict[int, str] = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ħ": "h",
    }
)

#: Multi-label public suffixes under which companies register their own name. A small built-in
#: subset of the Public Suffix List: enough to see that ``acme.co.uk`` and ``bravo.co.uk`` are
#: two registrations, without downloading anything at run time.
MULTI_LABEL_SUFFIXES: frozenset[str] = _words(
    """
    co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk nhs.uk sch.uk
    com.au net.au org.au edu.au gov.au asn.au id.au co.nz org.nz net.nz govt.nz ac.nz
    co.za org.za gov.za co.jp ne.jp or.jp ac.jp go.jp co.kr or.kr ne.kr ac.kr
    com.br net.br org.br gov.br com.mx org.mx gob.mx com.ar gob.ar com.co com.pe com.ve com.uy
    com.ec com.cn net.cn org.cn gov.cn com.hk org.hk com.sg edu.sg gov.sg com.tw org.tw
    com.tr co.in net.in org.in firm.in gen.in co.il org.il ac.il com.my co.id co.th in.th
    com.ph com.vn com.pk com.eg com.sa com.ng co.ke co.at or.at com.pl com.ua com.ru
    """
)

#: Hosting platforms that hand each customer a sub-domain (Public Suffix List "private"
#: section): ``acme.myshopify.com`` and ``bravo.myshopify.com`` are different shops.
PLATFORM_SUFFIXES: frozenset[str] = _words(
    """
    github.io gitlab.io herokuapp.com myshopify.com wixsite.com blogspot.com wordpress.com
    azurewebsites.net cloudapp.net appspot.com web.app firebaseapp.com netlify.app vercel.app
    pages.dev workers.dev my.salesforce.com force.com sharepoint.com business.site weebly.com
    godaddysites.com webflow.io notion.site substack.com squarespace.com
    """
)

#: Free and ISP mail domains: many unrelated small customers share them, so a shared one is
#: no evidence of a shared customer.
PUBLIC_MAIL_DOMAINS: frozenset[str] = _words(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.co.jp yahoo.com.au
    ymail.com rocketmail.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de outlook.com
    outlook.fr live.com live.co.uk msn.com aol.com icloud.com me.com mac.com protonmail.com
    proton.me pm.me gmx.de gmx.net gmx.com web.de t-online.de mail.com mail.ru inbox.ru bk.ru
    yandex.ru yandex.com rambler.ru qq.com 163.com 126.com sina.com naver.com daum.net hanmail.net
    orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it virgilio.it tiscali.it
    btinternet.com comcast.net att.net sbcglobal.net bellsouth.net rediffmail.com fastmail.com
    hey.com tutanota.com zoho.eu seznam.cz wp.pl onet.pl o2.pl bigpond.com optusnet.com.au
    shaw.ca rogers.com sympatico.ca uol.com.br bol.com.br terra.com.br
    """
)
