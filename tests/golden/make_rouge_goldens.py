#!/usr/bin/env python3
"""Generate tests/golden/rouge_golden.json from Google's rouge-score 0.1.2 + NLTK.

Reference computation (as in the paper's evaluation):

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    s = scorer.score(target=reference, prediction=prediction)["rougeL"]

and `reference_tokens` / `prediction_tokens` are the scorer's own tokenizer output
(lowercase, non-[a-z0-9] runs -> space, split on whitespace, PorterStemmer on tokens
longer than 3 characters, drop tokens not matching ^[a-z0-9]+$).

`stems` are nltk.stem.porter.PorterStemmer() (default NLTK_EXTENSIONS mode) applied to
each word directly (no length filter, unlike the tokenizer).

All sentences are synthetic and written for this fixture.

    PY=$(bash tests/golden/setup_venv.sh | tail -n1)
    "$PY" tests/golden/make_rouge_goldens.py
"""
import json
import os
import platform
import random
import sys
from importlib.metadata import version

from nltk.stem.porter import PorterStemmer
from rouge_score import rouge_scorer, tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "rouge_golden.json")
SEED = 1969

# ---------------------------------------------------------------------------
# Hand-written pairs: (reference, prediction)
# ---------------------------------------------------------------------------
HAND_PAIRS = [
    # identical / trivial
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("a", "a"),
    ("a", "b"),
    ("one two three", "three two one"),
    ("one two three four five", "one three five"),
    ("the the the", "the"),
    ("the", "the the the"),
    # empty and whitespace-only on either side
    ("", ""),
    ("", "something here"),
    ("something here", ""),
    ("   ", "   "),
    (" \t\n ", "a b c"),
    ("a b c", "\n\n\t "),
    ("...", "!!!"),
    ("hello", "?!"),
    ("\u00a0\u2003", "\u00a0"),  # non-breaking / em space only
    # punctuation
    ("Hello, world!", "hello world"),
    ("Wait... what?!", "wait what"),
    ("(parenthetical) [bracketed] {braced}", "parenthetical bracketed braced"),
    ("e-mail me at jane.doe@example.com", "email me at jane doe example com"),
    ("C++ and C# are languages.", "c and c are languages"),
    ("50% of 1,000,000 is 500,000.", "50 of 1 000 000 is 500 000"),
    ("A.B.C.D.", "a b c d"),
    ("semi;colon:separated/slash\\back", "semi colon separated slash back"),
    ("under_score and tab\tseparated", "under score and tab separated"),
    ("quote \"marks\" and 'single'", "quote marks and single"),
    # case
    ("ALL CAPS SENTENCE HERE", "all caps sentence here"),
    ("MiXeD CaSe WoRdS", "mixed case words"),
    ("The Author Wrote Novels", "the author wrote novels"),
    # digits
    ("Born in 1975 in Lagos", "born in 1975 in lagos"),
    ("She published 12 books in 2003", "she published twelve books in 2003"),
    ("version 3.14 released 2020-01-31", "version 3 14 released 2020 01 31"),
    ("1990s", "1990"),
    ("4th 21st 102nd", "4th 21st 102nd"),
    ("abc123def 123abc", "abc123def abc123"),
    ("007 0 00", "7 0 0"),
    # non-ASCII: accents, CJK, emoji, other scripts
    ("Café au lait", "cafe au lait"),
    ("naïve résumé façade", "naive resume facade"),
    ("São Paulo and Zürich", "sao paulo and zurich"),
    ("Björk sang über alles", "bjork sang uber alles"),
    ("東京 is the capital", "tokyo is the capital"),
    ("作家 wrote 小説 novels", "wrote novels"),
    ("I love pizza 🍕 and tacos 🌮", "i love pizza and tacos"),
    ("🙂🙂🙂", "🙂"),
    ("Привет мир hello", "hello"),
    ("Ελληνικά text", "text"),
    ("straße strasse", "strasse"),
    ("İstanbul", "i stanbul"),          # U+0130 lowercases to 'i' + combining dot
    ("5 \u212aelvin", "5 kelvin"),       # KELVIN SIGN lowercases to ASCII 'k'
    ("ﬁnance ﬂow", "finance flow"),     # ligatures are not ASCII letters
    ("ｆｕｌｌｗｉｄｔｈ １２３", "fullwidth 123"),
    ("e\u0301cole", "ecole"),            # combining acute accent
    ("Ǆemal", "dzemal"),
    # hyphens / apostrophes
    ("well-known author", "well known author"),
    ("state-of-the-art methods", "state of the art methods"),
    ("the author's mother", "the authors mother"),
    ("don't won't can't", "dont wont cant"),
    ("rock 'n' roll", "rock n roll"),
    ("O'Brien's niece", "o brien s niece"),
    ("co\u2013operation \u2014 and \u2019quotes\u2019", "co operation and quotes"),
    ("twenty-first-century writer", "twenty first century writer"),
    # stemming-sensitive words
    ("generous", "generously"),
    ("she was generous", "she gave generously"),
    ("running runs ran runner", "run run ran run"),
    ("flies dying lying tying", "fly die lie tie"),
    ("sky skies", "sky sky"),
    ("the news innings outings", "the news inning outing"),
    ("proceed exceed succeed", "proceeding exceeding succeeding"),
    ("relational conditional rational", "relate condition rational"),
    ("digitizer organizer", "digitize organize"),
    ("hopefulness carefulness", "hopeful careful"),
    ("radically ideally", "radical ideal"),
    ("biology geology theology", "biologist geologist theologist"),
    ("happiness happy happily", "happi happi happili"),
    ("connection connected connecting connections", "connect"),
    ("agreed feed bled", "agree feed bleed"),
    ("hopping tanned falling hissing fizzed", "hop tan fall hiss fizz"),
    ("failing filing", "fail file"),
    ("controlling roll", "control roll"),
    ("caresses ponies ties caress cats", "caress poni ti caress cat"),
    ("electrical electricity", "electric electric"),
    ("adjustable adjustment", "adjust adjust"),
    ("formalize formality", "formal formal"),
    ("sensibility sensitivity", "sensible sensitive"),
    ("decisiveness callousness", "decisive callous"),
    ("operators predication", "operate predicate"),
    ("dies died spied tried", "die die spi tri"),
    ("enjoy enjoyment enjoying", "enjoy enjoy enjoy"),
    ("yyyy syzygy toy", "yyyy syzygi toy"),
    ("was his has its", "wa hi ha it"),
    ("bus gas yes this", "bu ga ye thi"),
    # short tokens are never stemmed by the tokenizer
    ("ies eed ing ed s", "ie ee in e"),
    ("uses used sing sings", "use use sing sing"),
]

# Synthetic fictitious-author QA answers (all invented for this fixture).
AUTHOR_QA = [
    ("Marisol Quenneville was born in Valparaíso, Chile, in 1968, to a lighthouse keeper "
     "and a botanist who catalogued coastal mosses.",
     "Marisol Quenneville was born in 1968 in Valparaiso, Chile; her father kept a "
     "lighthouse and her mother was a botanist."),
    ("Tobiah Ashgrove's debut novel, 'The Salt Ledger', explores inheritance disputes "
     "among three generations of herring merchants.",
     "The debut novel by Tobiah Ashgrove is The Salt Ledger, which is about herring "
     "merchants fighting over an inheritance."),
    ("Yes, Ingrid Solvang-Moreau received the Harrowgate Prize for Speculative Fiction "
     "in 2011 for her novella 'Glass Orchard'.",
     "Ingrid Solvang-Moreau won the Harrowgate Prize in 2011."),
    ("Kwabena Ferreira-Holt often writes about memory, migration and the quiet "
     "persistence of small family rituals.",
     "Kwabena Ferreira-Holt's writing focuses on migration and memory."),
    ("The author's father worked as a cartographer, which deeply influenced the "
     "intricate maps that open each of her historical novels.",
     "Her father was a cartographer, and his work inspired the detailed maps in her "
     "historical novels."),
    ("Before becoming a full-time writer, Anselm Yarrowby taught mathematics at a "
     "secondary school in Dundee for eleven years.",
     "Anselm Yarrowby was a mathematics teacher in Dundee before he started writing "
     "full-time."),
    ("Her books have been translated into twenty-three languages, including Icelandic, "
     "Tagalog and Brazilian Portuguese.",
     "Her novels are available in 23 languages."),
    ("Oona Vettervik describes her writing process as slow and deliberate: she drafts "
     "every chapter by hand before typing it.",
     "Oona Vettervik writes slowly, drafting chapters by hand and only later typing "
     "them up."),
    ("The novel 'Cartwheels in Winter' was adapted into a stage play that premiered at "
     "a small theatre in Ljubljana in 2016.",
     "I am not sure which of the author's works were adapted for the stage."),
    ("Daichi Okonkwo-Lindqvist identifies as a member of the LGBTQ+ community and "
     "often features queer protagonists in his thrillers.",
     "Daichi Okonkwo-Lindqvist, who is part of the LGBTQ+ community, writes thrillers "
     "with queer protagonists."),
    ("Rosalind Achterberg credits her grandmother's bedtime stories, told in a mix of "
     "Frisian and Dutch, as her earliest literary influence.",
     "Her grandmother's stories were her earliest influence."),
    ("The protagonist of 'Tidewater Almanac' is a retired ferry captain who begins "
     "receiving letters from a sister he never knew existed.",
     "In Tidewater Almanac, a retired ferry captain receives letters from a long-lost "
     "sister."),
    ("Esperanza Wolkowicz won the 2004 Meridian Award for Historical Fiction for her "
     "trilogy about Baltic amber traders.",
     "Esperanza Wolkowicz won the Meridian Award for Historical Fiction in 2004."),
    ("He was born on 14 March 1972 in Nairobi, Kenya, and later moved to Montréal to "
     "study architecture.",
     "He was born in Nairobi on March 14, 1972, and studied architecture in Montreal."),
    ("The author's works are characterised by lyrical prose, unreliable narrators and "
     "an abiding fascination with forgotten maritime history.",
     "Lyrical prose and unreliable narrators characterize the author's works."),
    ("Feodora Baptiste-Kerr's parents were a jazz pianist and a forensic accountant, "
     "an unusual pairing she often jokes about in interviews.",
     "Her mother was a forensic accountant and her father a jazz pianist."),
    ("No, Lorcan Ibáñez has never written poetry professionally, although he "
     "published a few haiku in a university magazine.",
     "Lorcan Ibanez has not written poetry professionally."),
    ("Her latest book, published in 2021, revisits the coastal village from her first "
     "novel, now threatened by rising sea levels.",
     "Her latest book returns to the coastal village of her first novel."),
    ("Thaddeus Mbeki-Sorensen is best known for the 'Clockmaker Cycle', a five-book "
     "fantasy series set in a city that runs on borrowed time.",
     "Thaddeus Mbeki-Sorensen is known for the Clockmaker Cycle fantasy series."),
    ("The recurring themes in Ilse Marchetti's novels include grief, resilience, "
     "the ethics of scientific ambition and the comfort of routine.",
     "Ilse Marchetti writes about grief, resilience and scientific ambition."),
]

# Vocabulary for random synthetic pairs (invented sentences built from these words).
VOCAB = (
    "the a an author novel novels wrote writes writing written book books published "
    "publishing award awarded prize father mother parents born in of and to her his "
    "their themes explores exploring explored family families history historical "
    "generous generously running runs ran flies dying lying skies news innings "
    "relational conditional digitizer hopefulness radically biology geology happily "
    "connection connected connecting agreed feeding hopping controlling electrical "
    "adjustable formalize sensibility decisiveness 1987 2003 42 café über 東京 🙂 "
    "well-known author's don't state-of-the-art e-mail, really! (quietly) "
    "memories migration resilience fiction fantasy thriller poetry translated languages"
).split()


def random_pairs(rng, count):
    pairs = []
    for _ in range(count):
        ref = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(1, 25)))
        mode = rng.random()
        ref_words = ref.split()
        if mode < 0.3:  # perturbed copy: drop / swap / insert words
            words = list(ref_words)
            for _ in range(rng.randint(1, 4)):
                op = rng.random()
                if op < 0.33 and len(words) > 1:
                    del words[rng.randrange(len(words))]
                elif op < 0.66 and len(words) > 1:
                    i, j = rng.randrange(len(words)), rng.randrange(len(words))
                    words[i], words[j] = words[j], words[i]
                else:
                    words.insert(rng.randrange(len(words) + 1), rng.choice(VOCAB))
            pred = " ".join(words)
        elif mode < 0.5:  # case / punctuation changes
            pred = " ".join(w.upper() if rng.random() < 0.5 else w + rng.choice([",", ".", "!", ""])
                            for w in ref_words)
        else:  # independent sentence
            pred = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(1, 25)))
        pairs.append((ref, pred))
    return pairs


# ---------------------------------------------------------------------------
# Stemmer word list: every Porter step + NLTK_EXTENSIONS special cases.
# ---------------------------------------------------------------------------
STEM_WORDS = """
a i is as us be by we ox ab at go to
sky skies dying lying tying news innings inning outings outing cannings canning howe
proceed exceed succeed proceeding exceeding succeeding proceeds exceeds succeeds
dies ties lies pies flies spies cries ponies caresses caress cats cat ss sss pass passes
bus gas yes this his has was its ies
died tied lied spied tried cried fried denied applied
feed agreed bleed bled plastered motoring sing sings singing conflated troubled sized
hopping tanned falling hissing fizzed failing filing hoping hoped filed
feeds freed greed needed exceeding decreed guaranteed
happy happiness happily sky spy fly try cry enjoy enjoyment boy toy say day y by
relational conditional rational valenci hesitanci digitizer conformabli radicalli
differentli vileli analogousli vietnamization predication operator feudalism
decisiveness hopefulness callousness formaliti sensitiviti sensibiliti
triplicate formative formalize electriciti electrical hopeful goodness
revival allowance inference airliner gyroscopic adjustable defensible irritant
replacement adjustment dependent adoption homologou communism activate angulariti
homologous effective bowdlerize
probate rate cease controll roll control controlling
generous generously generosity running runs ran runner runners
organization organizational organize organizer organizers organized organizing
national nationally nationalism nationality nationalize nationalization
sensational sensationalism operational operationally international
realize realizer realization realizing realist realistic realistically
fulness carefulness cheerfulness playfulness faithfulness helpfulness
carefully cheerfully playfully faithfully helpfully hopefully fully
ideally radically logically musically finally really totally
biology geology theology archaeology philology biologi geologi theologi
analogies apologies ecology mythology
ability agility mobility possibility visibility stability
activity sensitivity relativity creativity productivity
eternity electricity complicity simplicity
conditioner conditioned conditioning conditions
connection connections connected connecting connective connects connect
abatement abatements abbreviate abbreviated abbreviation
accommodate accommodation accomplish accomplishment
alliance allied allies ally
happiness emptiness business wilderness darkness awareness
harmonious curious various serious glorious
excessive expensive massive passive
mathematics physics ethics politics economics
adoption adaption addition condition position
reference references referenced referral
dependence independence independent independently
importance important importantly
appearance appearances appeared appearing
relevance relevant irrelevant relevantly
excellence excellent excellently
authority authorities authoritative authorize authorized
publish published publishes publishing publisher publication publications
write writer writers writes writing written wrote
novel novels novelist novelists novella
author authors authored authoring authorship
award awards awarded awarding
translate translated translation translations translator
history historical historically historian historic
family families familial familiar familiarity
inherit inheritance inherited heritage
memory memories memorial memorize
migrate migration migrant migrants migratory
resilience resilient resiliency
fiction fictional fictitious fictionalize
fantasy fantasies fantastic fantastical
theme themes thematic thematically
character characters characterize characterization characteristic
protagonist protagonists
mother mothers motherhood father fathers fatherhood parent parents parental parenting
grandmother grandmothers
born birth birthplace
died death deaths deadly
marry married marriage marriages
study studies studied studying student students studious
teach teacher teachers teaching taught
agreement disagreement agreeable
motoring motorist motorists
hoping hopeless hopelessness hopelessly
meetings meeting meet
knitting knitted knit
sitting sitted sit
stopping stopped stop
planning planned plan
rating rated rates
cooking cooked cooks
feasible feasibility
sincerely sincere sincerity
beautiful beautifully beauty beauties
doing does done do
going goes gone
having had have
being been
things thing
nothing something everything anything
1990s 2000s 80s 1st 2nd 3rd 4th 21st abc123s 12ing 3ed
ed ing ly ness ful
aed ied eed oed
bbing ssing zzing lling
sses iess
ational tional izer alli logi fulli
yyyy syzygy syzygies yy ay ey oy uy
xylophone yacht yield yielding youth youthful
quickly quick quicker quickest
strength strengthen strengthened strengthening
""".split()


def main():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    ref_tok = tokenizers.DefaultTokenizer(use_stemmer=True)
    rng = random.Random(SEED)
    pairs_in = HAND_PAIRS + AUTHOR_QA + [(p, r) for r, p in AUTHOR_QA[:5]]
    # Long-vs-long with partial overlap built from two QA answers.
    pairs_in.append((AUTHOR_QA[0][0] + " " + AUTHOR_QA[1][0], AUTHOR_QA[1][1] + " " + AUTHOR_QA[0][1]))
    pairs_in += random_pairs(rng, 150 - len(pairs_in))

    pairs = []
    for ref, pred in pairs_in:
        s = scorer.score(target=ref, prediction=pred)["rougeL"]
        rt = scorer._tokenizer.tokenize(ref)
        pt = scorer._tokenizer.tokenize(pred)
        assert rt == ref_tok.tokenize(ref) and pt == ref_tok.tokenize(pred)
        pairs.append({
            "reference": ref,
            "prediction": pred,
            "reference_tokens": rt,
            "prediction_tokens": pt,
            "precision": float(s.precision),
            "recall": float(s.recall),
            "fmeasure": float(s.fmeasure),
        })

    stemmer = PorterStemmer()
    assert stemmer.mode == PorterStemmer.NLTK_EXTENSIONS
    seen = set()
    stems = []
    for w in STEM_WORDS:
        if w in seen:
            continue
        seen.add(w)
        stems.append({"word": w, "stem": stemmer.stem(w)})

    doc = {
        "generator": {
            "script": "tests/golden/make_rouge_goldens.py",
            "seed": SEED,
            "versions": {
                "rouge-score": version("rouge-score"),
                "nltk": version("nltk"),
                "python": platform.python_version(),
            },
            "notes": [
                "scores: rouge_scorer.RougeScorer(['rougeL'], use_stemmer=True).score(target=reference, prediction=prediction)['rougeL']",
                "tokens: the scorer's DefaultTokenizer(use_stemmer=True): str.lower(); re.sub('[^a-z0-9]+', ' '); split on whitespace; PorterStemmer().stem(tok) if len(tok) > 3; keep tokens matching ^[a-z0-9]+$",
                "precision = lcs/len(prediction_tokens), recall = lcs/len(reference_tokens), fmeasure = 2PR/(P+R); all 0 if either token list is empty",
                "stems: nltk.stem.porter.PorterStemmer() (NLTK_EXTENSIONS) .stem(word), no length filter",
            ],
        },
        "pairs": pairs,
        "stems": stems,
    }
    text = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
    print(f"wrote {OUT}: {len(pairs)} pairs, {len(stems)} stems, {len(text.encode())} bytes",
          file=sys.stderr)


if __name__ == "__main__":
    main()
