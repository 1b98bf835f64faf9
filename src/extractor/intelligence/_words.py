"""Stop words of the archive's two languages, accents folded (the vectors compare folded text). Words that say
nothing about what a signal is: articles, pronouns, auxiliaries, the verbs of change every signal uses, and
the verbs of reporting every description uses."""

from __future__ import annotations

_ENGLISH = """
a about above after again against all almost also am among an and any are around as at be because been before
being below between both but by can could did do does doing down during each either else ever every few for
from further had has have having he her here hers him his how however i if in into is it its itself just least
less like may me might more most much must my near neither no nor not now of off often on once one only or other
our ours out over own per perhaps quite rather same shall she should since so some such than that the their them
then there these they this those though through thus to too under until up upon us very via was we were what
when where whether which while who whom whose why will with within without would yet you your yours
new more many several various across toward towards among amid become becomes becoming getting get gets make
makes made use used uses using way ways still even already rise rising rises grow grows growing growth
increase increases increasing increased emerging emergence trend trends shift shifts
according report reports reported show shows showed suggest suggests suggested note notes noted say says said
observers officials experts analysts
"""

_FRENCH = """
a ai aie ainsi alors apres au aucun aupres aussi autre autres aux avait avant avec avoir ayant bien c ca ce ceci
cela celle celles celui cependant ces cet cette ceux chaque chez comme comment d dans de des deja depuis donc dont
du elle elles en encore entre est et etaient etait ete etre eu eux fait faire fois font il ils j je jusqu l la
le les leur leurs lors lui m ma mais me meme memes mes moi moins mon n ne ni nos notre nous on ont ou par parce
pas peu peut plus plusieurs pour pourquoi pres puis qu quand que quel quelle quelles quels qui quoi s sa sans se
selon ses si sien soi soit son sont sous sur ta tandis te tels tes toi ton tous tout toute toutes tres tu un une
vers voici voila vos votre vous y nouveau nouveaux nouvelle nouvelles hausse essor croissance croissant
croissante croissantes croissants montee
"""

STOP_WORDS = frozenset((_ENGLISH + _FRENCH).split())
