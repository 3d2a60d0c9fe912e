"""The project's own English stopword list (no nltk data needed).

Question words that carry meaning for FAQ matching ("how", "when", "why", "where", "who",
"which", "not", "no") are deliberately kept: "how do I cancel" and "why do I cancel" ask
different things.
"""

ENGLISH_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before
    being below between both but by can could couldn did didn do does doesn doing don down during
    each few for from further had hadn has hasn have haven having he her here hers herself him
    himself his i if in into is isn it its itself just ll me might more most mustn my myself
    nor now o of off on once only or other our ours ourselves out over own re s same shan she
    should shouldn so some such t than that the their theirs them themselves then there these
    they this those through to too under until up ve very was wasn we were weren what whom
    while will with won would wouldn y you your yours yourself yourselves d m also may us
    dont doesnt didnt isnt arent wasnt werent hasnt havent hadnt wouldnt shouldnt couldnt
    im ive youre youve theyre weve id youd hed shed itd
    """.split()
)
