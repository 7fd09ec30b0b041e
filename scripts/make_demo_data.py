#!/usr/bin/env python3
"""Write the crossling demo data into ``crossling/data/demo/`` (committed as package data).

    python scripts/make_demo_data.py [--out crossling/data/demo]

Outputs (see docs/CONTRACTS.md, "Demo data"):

- ``docs.jsonl``      monolingual documents in 13 languages / 8 scripts, plus deliberately bad
                      lines, told apart by id prefix: ``doc-`` (clean), ``dup-`` (exact duplicates,
                      some differing only by whitespace or NFC/NFD), ``near-`` (1-3 words changed or
                      a sentence appended), ``mixed-`` (two languages, 40/60-60/40 by characters),
                      ``junk-`` (too short, repeated lines, symbols, boilerplate, nonsense, numbers,
                      code, mojibake; ``junk-014-allcaps`` is real English in capitals and should be
                      kept by a sane quality filter).
- ``pages.warc.gz``   a gzipped WARC 1.0 as a crawler writes it: warcinfo, then request/response
                      pairs: HTML pages in 13 languages, charsets declared in the HTTP header, only in
                      <meta> (windows-1251, Shift_JIS, GB18030, bytes really in that charset) or not
                      at all; a 404, a 301, an image/png and one exact duplicate at another URL.
- ``parallel.jsonl``  en-de and en-fr pairs from a small compositional grammar (agreement, gender,
                      case, conjugation, word order), so a tiny seq2seq model can learn it.
- ``labeled.jsonl``   topic classification (sport, food, tech, weather) in en, de, fr, es, ru.
- ``site/``           a small website (home and topic pages in 13 languages, translations linked
                      with hreflang, a robots.txt) that ``crossling demo`` serves on 127.0.0.1 and
                      crawls over HTTP.

Deterministic: a fixed seed, fixed WARC dates and record ids (uuid5), so two runs are
byte-identical. Standard library and warcio only. All text was written for this project.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import random
import re
import struct
import unicodedata
import uuid
import zlib
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20240517
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "crossling" / "data" / "demo"

TOPICS = ("weather", "cooking", "travel", "city", "science", "sport", "tech", "history")
PER_TOPIC = 6
DOC_LANGS = ("en", "de", "fr", "es", "pt", "ru", "uk", "zh", "ja", "ar", "hi", "el", "ko")
NO_SPACE_LANGS = {"zh", "ja"}

# ---------------------------------------------------------------------------------------------
# Sentence pools: 8 topics x 6 sentences per language, in TOPICS order, one sentence a line.
# ---------------------------------------------------------------------------------------------

POOLS = {
    "en": """
The morning started grey and cold, but by noon the sun had burned through the clouds.
Heavy rain is expected tonight, so remember to close the windows before you go to bed.
In spring the wind from the sea keeps the town cool even on the brightest afternoons.
We waited under the bridge until the thunderstorm moved away towards the hills.
The first snow of the year covered the parked cars in a thin white layer.
After a week of fog, everyone in the village was happy to see a clear blue sky again.
My grandmother always adds a pinch of salt to the dough before she lets it rest.
Chop the onions finely and fry them slowly until they turn soft and golden.
The soup tastes better on the second day, when the vegetables have had time to soften.
For breakfast we usually eat bread with butter, cheese and a little honey.
He forgot the rice on the stove, and the whole kitchen smelled of smoke.
A good tomato sauce needs patience more than expensive ingredients.
The night train left the station on time and arrived at the coast shortly after sunrise.
She packed only one small bag, because she wanted to walk through the mountains for a week.
At the border the officer checked our passports and wished us a pleasant journey.
We rented bicycles and followed the river path from one village to the next.
The old harbour is full of small boats, cafés and tourists taking photographs.
Our flight was delayed by three hours, so we played cards at the gate.
Every morning the bakery on the corner sells fresh bread to a long line of neighbours.
The new tram line has made it much easier to reach the city centre from the suburbs.
On Saturdays the main square turns into a busy market with fruit, flowers and old books.
Traffic in the evening is so slow that many people now prefer to cycle home.
The library stays open until nine o'clock, and students fill every table.
A small park between the tall buildings gives the children a place to play.
Water boils at a lower temperature high in the mountains because the air pressure is lower.
The researchers measured the growth of the plants every day for three months.
Light from the sun needs about eight minutes to reach the Earth.
Bees help many fruit trees by carrying pollen from one flower to another.
A simple experiment with salt and ice shows how the freezing point of water changes.
The telescope on the hill allows students to observe the moons of Jupiter.
The local football team won the match with a late goal in the final minute.
She runs five kilometres along the lake every Sunday morning.
Thousands of fans waited outside the stadium to greet the players.
Swimming is a good exercise because it trains the whole body without hurting the joints.
The tennis final lasted almost four hours and ended after midnight.
Our coach says that regular training matters more than talent.
The new phone charges in half an hour and the battery lasts for two days.
Many small shops now accept payments with a card or a mobile phone.
He spent the weekend repairing an old laptop and installing a fresh operating system.
The software update fixed several bugs but made the program slower on older computers.
Engineers are testing electric buses that can run the whole day on one charge.
Always make a backup of your photos before you reset the device.
The castle above the town was built in the twelfth century to protect the trade road.
For many centuries the river was the most important route for merchants and travellers.
The museum shows tools, coins and pottery found during the excavation near the old wall.
The first printed newspapers appeared in Europe in the seventeenth century.
After the great fire, the city was rebuilt with wider streets and stone houses.
My grandfather still remembers the day when electricity came to his village.
""",
    "de": """
Der Morgen begann grau und kalt, aber gegen Mittag hatte die Sonne die Wolken vertrieben.
Heute Nacht wird starker Regen erwartet, also schließ die Fenster, bevor du ins Bett gehst.
Im Frühling hält der Wind vom Meer die Stadt selbst an den hellsten Nachmittagen kühl.
Wir warteten unter der Brücke, bis das Gewitter in Richtung der Hügel weitergezogen war.
Der erste Schnee des Jahres bedeckte die geparkten Autos mit einer dünnen weißen Schicht.
Nach einer Woche Nebel freuten sich alle im Dorf, endlich wieder einen klaren blauen Himmel zu sehen.
Meine Großmutter gibt immer eine Prise Salz in den Teig, bevor sie ihn ruhen lässt.
Die Zwiebeln fein hacken und langsam braten, bis sie weich und goldbraun sind.
Die Suppe schmeckt am zweiten Tag besser, wenn das Gemüse Zeit hatte, weich zu werden.
Zum Frühstück essen wir meistens Brot mit Butter, Käse und etwas Honig.
Er hat den Reis auf dem Herd vergessen, und die ganze Küche roch nach Rauch.
Eine gute Tomatensoße braucht mehr Geduld als teure Zutaten.
Der Nachtzug verließ den Bahnhof pünktlich und erreichte die Küste kurz nach Sonnenaufgang.
Sie packte nur eine kleine Tasche, weil sie eine Woche lang durch die Berge wandern wollte.
An der Grenze prüfte der Beamte unsere Pässe und wünschte uns eine gute Reise.
Wir liehen uns Fahrräder und folgten dem Weg am Fluss von einem Dorf zum nächsten.
Der alte Hafen ist voller kleiner Boote, Cafés und Touristen, die Fotos machen.
Unser Flug hatte drei Stunden Verspätung, also spielten wir am Gate Karten.
Jeden Morgen verkauft die Bäckerei an der Ecke frisches Brot an eine lange Schlange von Nachbarn.
Mit der neuen Straßenbahnlinie kommt man aus den Vororten viel leichter ins Stadtzentrum.
Samstags verwandelt sich der Marktplatz in einen belebten Markt mit Obst, Blumen und alten Büchern.
Abends ist der Verkehr so langsam, dass viele Leute inzwischen lieber mit dem Rad nach Hause fahren.
Die Bibliothek ist bis neun Uhr geöffnet, und Studierende besetzen jeden Tisch.
Ein kleiner Park zwischen den hohen Häusern gibt den Kindern einen Platz zum Spielen.
Hoch in den Bergen kocht Wasser bei einer niedrigeren Temperatur, weil der Luftdruck geringer ist.
Die Forscher maßen drei Monate lang jeden Tag das Wachstum der Pflanzen.
Das Licht der Sonne braucht etwa acht Minuten, um die Erde zu erreichen.
Bienen helfen vielen Obstbäumen, indem sie Pollen von einer Blüte zur anderen tragen.
Ein einfaches Experiment mit Salz und Eis zeigt, wie sich der Gefrierpunkt von Wasser verändert.
Mit dem Teleskop auf dem Hügel können Schüler die Monde des Jupiter beobachten.
Die örtliche Fußballmannschaft gewann das Spiel mit einem späten Tor in der letzten Minute.
Sie läuft jeden Sonntagmorgen fünf Kilometer am See entlang.
Tausende Fans warteten vor dem Stadion, um die Spieler zu begrüßen.
Schwimmen ist ein gutes Training, weil es den ganzen Körper fordert, ohne die Gelenke zu belasten.
Das Tennisfinale dauerte fast vier Stunden und endete erst nach Mitternacht.
Unser Trainer sagt, dass regelmäßiges Training wichtiger ist als Talent.
Das neue Handy lädt in einer halben Stunde, und der Akku hält zwei Tage.
Viele kleine Geschäfte akzeptieren inzwischen Zahlungen mit Karte oder Handy.
Er verbrachte das Wochenende damit, einen alten Laptop zu reparieren und ein neues Betriebssystem zu installieren.
Das Software-Update behob mehrere Fehler, machte das Programm auf älteren Computern aber langsamer.
Ingenieure testen Elektrobusse, die mit einer Ladung den ganzen Tag fahren können.
Sichere immer deine Fotos, bevor du das Gerät zurücksetzt.
Die Burg über der Stadt wurde im zwölften Jahrhundert gebaut, um die Handelsstraße zu schützen.
Über viele Jahrhunderte war der Fluss der wichtigste Weg für Händler und Reisende.
Das Museum zeigt Werkzeuge, Münzen und Keramik, die bei der Ausgrabung nahe der alten Mauer gefunden wurden.
Die ersten gedruckten Zeitungen erschienen in Europa im siebzehnten Jahrhundert.
Nach dem großen Brand wurde die Stadt mit breiteren Straßen und Steinhäusern wieder aufgebaut.
Mein Großvater erinnert sich noch an den Tag, an dem der Strom in sein Dorf kam.
""",
    "fr": """
La matinée a commencé grise et froide, mais vers midi le soleil avait percé les nuages.
De fortes pluies sont attendues cette nuit, alors pense à fermer les fenêtres avant de te coucher.
Au printemps, le vent de la mer garde la ville fraîche même pendant les après-midi les plus lumineux.
Nous avons attendu sous le pont jusqu'à ce que l'orage s'éloigne vers les collines.
La première neige de l'année a recouvert les voitures garées d'une fine couche blanche.
Après une semaine de brouillard, tout le village était heureux de revoir un ciel bleu et dégagé.
Ma grand-mère ajoute toujours une pincée de sel à la pâte avant de la laisser reposer.
Hachez finement les oignons et faites-les revenir doucement jusqu'à ce qu'ils soient tendres et dorés.
La soupe est meilleure le deuxième jour, quand les légumes ont eu le temps de ramollir.
Au petit déjeuner, nous mangeons souvent du pain avec du beurre, du fromage et un peu de miel.
Il a oublié le riz sur la cuisinière, et toute la cuisine sentait la fumée.
Une bonne sauce tomate demande plus de patience que d'ingrédients chers.
Le train de nuit a quitté la gare à l'heure et est arrivé sur la côte peu après le lever du soleil.
Elle n'a pris qu'un petit sac, car elle voulait marcher une semaine dans les montagnes.
À la frontière, le douanier a vérifié nos passeports et nous a souhaité bon voyage.
Nous avons loué des vélos et suivi le chemin le long de la rivière d'un village à l'autre.
Le vieux port est plein de petits bateaux, de cafés et de touristes qui prennent des photos.
Notre vol avait trois heures de retard, alors nous avons joué aux cartes près de la porte d'embarquement.
Chaque matin, la boulangerie du coin vend du pain frais à une longue file de voisins.
La nouvelle ligne de tramway permet de rejoindre beaucoup plus facilement le centre-ville depuis la banlieue.
Le samedi, la grande place se transforme en un marché animé avec des fruits, des fleurs et de vieux livres.
Le soir, la circulation est si lente que beaucoup de gens préfèrent maintenant rentrer à vélo.
La bibliothèque reste ouverte jusqu'à vingt et une heures, et les étudiants occupent toutes les tables.
Un petit parc entre les grands immeubles offre aux enfants un endroit pour jouer.
En haute montagne, l'eau bout à une température plus basse parce que la pression de l'air est plus faible.
Les chercheurs ont mesuré la croissance des plantes chaque jour pendant trois mois.
La lumière du soleil met environ huit minutes pour atteindre la Terre.
Les abeilles aident de nombreux arbres fruitiers en transportant le pollen d'une fleur à l'autre.
Une expérience simple avec du sel et de la glace montre comment le point de congélation de l'eau change.
Le télescope sur la colline permet aux élèves d'observer les lunes de Jupiter.
L'équipe de football locale a gagné le match grâce à un but tardif dans la dernière minute.
Elle court cinq kilomètres au bord du lac chaque dimanche matin.
Des milliers de supporters attendaient devant le stade pour saluer les joueurs.
La natation est un bon exercice, car elle fait travailler tout le corps sans abîmer les articulations.
La finale de tennis a duré presque quatre heures et s'est terminée après minuit.
Notre entraîneur dit que l'entraînement régulier compte plus que le talent.
Le nouveau téléphone se recharge en une demi-heure et la batterie tient deux jours.
Beaucoup de petits commerces acceptent maintenant les paiements par carte ou par téléphone.
Il a passé le week-end à réparer un vieil ordinateur portable et à installer un nouveau système d'exploitation.
La mise à jour du logiciel a corrigé plusieurs bogues, mais elle a ralenti le programme sur les anciens ordinateurs.
Des ingénieurs testent des bus électriques capables de rouler toute la journée avec une seule charge.
Fais toujours une sauvegarde de tes photos avant de réinitialiser l'appareil.
Le château qui domine la ville a été construit au douzième siècle pour protéger la route commerciale.
Pendant des siècles, la rivière a été la voie la plus importante pour les marchands et les voyageurs.
Le musée présente des outils, des pièces de monnaie et des poteries trouvés lors des fouilles près du vieux mur.
Les premiers journaux imprimés sont apparus en Europe au dix-septième siècle.
Après le grand incendie, la ville a été reconstruite avec des rues plus larges et des maisons en pierre.
Mon grand-père se souvient encore du jour où l'électricité est arrivée dans son village.
""",
    "es": """
La mañana empezó gris y fría, pero hacia el mediodía el sol ya había atravesado las nubes.
Se esperan lluvias fuertes esta noche, así que recuerda cerrar las ventanas antes de acostarte.
En primavera, el viento del mar mantiene fresca la ciudad incluso en las tardes más luminosas.
Esperamos debajo del puente hasta que la tormenta se alejó hacia las colinas.
La primera nevada del año cubrió los coches aparcados con una fina capa blanca.
Después de una semana de niebla, todo el pueblo se alegró de ver otra vez un cielo azul y despejado.
Mi abuela siempre añade una pizca de sal a la masa antes de dejarla reposar.
Pica la cebolla muy fina y fríela a fuego lento hasta que esté blanda y dorada.
La sopa sabe mejor al día siguiente, cuando las verduras han tenido tiempo de ablandarse.
Para desayunar solemos comer pan con mantequilla, queso y un poco de miel.
Se olvidó del arroz en el fuego y toda la cocina olía a humo.
Una buena salsa de tomate necesita más paciencia que ingredientes caros.
El tren nocturno salió de la estación a su hora y llegó a la costa poco después del amanecer.
Ella solo llevó una mochila pequeña, porque quería caminar una semana por las montañas.
En la frontera, el agente revisó nuestros pasaportes y nos deseó un buen viaje.
Alquilamos bicicletas y seguimos el camino del río de un pueblo a otro.
El puerto viejo está lleno de barcas pequeñas, cafeterías y turistas que hacen fotos.
Nuestro vuelo se retrasó tres horas, así que jugamos a las cartas junto a la puerta de embarque.
Cada mañana, la panadería de la esquina vende pan recién hecho a una larga fila de vecinos.
La nueva línea de tranvía ha hecho mucho más fácil llegar al centro desde las afueras.
Los sábados, la plaza mayor se convierte en un mercado lleno de fruta, flores y libros viejos.
Por la tarde el tráfico es tan lento que mucha gente prefiere volver a casa en bicicleta.
La biblioteca abre hasta las nueve de la noche y los estudiantes ocupan todas las mesas.
Un pequeño parque entre los edificios altos ofrece a los niños un lugar para jugar.
En lo alto de las montañas el agua hierve a una temperatura más baja porque la presión del aire es menor.
Los investigadores midieron el crecimiento de las plantas todos los días durante tres meses.
La luz del sol tarda unos ocho minutos en llegar a la Tierra.
Las abejas ayudan a muchos árboles frutales llevando el polen de una flor a otra.
Un experimento sencillo con sal y hielo muestra cómo cambia el punto de congelación del agua.
El telescopio de la colina permite a los alumnos observar las lunas de Júpiter.
El equipo de fútbol local ganó el partido con un gol en el último minuto.
Ella corre cinco kilómetros junto al lago todos los domingos por la mañana.
Miles de aficionados esperaron fuera del estadio para saludar a los jugadores.
La natación es un buen ejercicio porque trabaja todo el cuerpo sin dañar las articulaciones.
La final de tenis duró casi cuatro horas y terminó después de la medianoche.
Nuestro entrenador dice que entrenar con regularidad importa más que el talento.
El nuevo móvil se carga en media hora y la batería dura dos días.
Muchas tiendas pequeñas ya aceptan pagos con tarjeta o con el teléfono.
Pasó el fin de semana arreglando un portátil viejo e instalando un sistema operativo nuevo.
La actualización del programa corrigió varios errores, pero lo hizo más lento en los ordenadores antiguos.
Los ingenieros están probando autobuses eléctricos que pueden circular todo el día con una sola carga.
Haz siempre una copia de seguridad de tus fotos antes de restablecer el dispositivo.
El castillo que domina el pueblo se construyó en el siglo doce para proteger el camino comercial.
Durante muchos siglos, el río fue la ruta más importante para comerciantes y viajeros.
El museo muestra herramientas, monedas y cerámica halladas en la excavación junto a la muralla antigua.
Los primeros periódicos impresos aparecieron en Europa en el siglo diecisiete.
Después del gran incendio, la ciudad se reconstruyó con calles más anchas y casas de piedra.
Mi abuelo todavía recuerda el día en que llegó la electricidad a su pueblo.
""",
    "pt": """
A manhã começou cinzenta e fria, mas ao meio-dia o sol já tinha atravessado as nuvens.
Espera-se chuva forte esta noite, por isso lembre-se de fechar as janelas antes de dormir.
Na primavera, o vento do mar mantém a cidade fresca mesmo nas tardes mais claras.
Esperámos debaixo da ponte até a trovoada se afastar em direção às colinas.
A primeira neve do ano cobriu os carros estacionados com uma fina camada branca.
Depois de uma semana de nevoeiro, toda a aldeia ficou feliz por ver de novo um céu azul e limpo.
A minha avó junta sempre uma pitada de sal à massa antes de a deixar descansar.
Pique a cebola bem fininha e frite-a devagar até ficar macia e dourada.
A sopa fica mais saborosa no segundo dia, quando os legumes já tiveram tempo de amolecer.
Ao pequeno-almoço costumamos comer pão com manteiga, queijo e um pouco de mel.
Ele esqueceu-se do arroz no fogão e a cozinha inteira ficou a cheirar a fumo.
Um bom molho de tomate precisa mais de paciência do que de ingredientes caros.
O comboio noturno saiu da estação à hora certa e chegou à costa pouco depois do nascer do sol.
Ela levou apenas uma mochila pequena, porque queria caminhar uma semana pelas montanhas.
Na fronteira, o agente verificou os nossos passaportes e desejou-nos boa viagem.
Alugámos bicicletas e seguimos o caminho junto ao rio de uma aldeia para a outra.
O porto antigo está cheio de barcos pequenos, cafés e turistas a tirar fotografias.
O nosso voo atrasou três horas, por isso jogámos às cartas junto à porta de embarque.
Todas as manhãs, a padaria da esquina vende pão fresco a uma longa fila de vizinhos.
A nova linha de elétrico tornou muito mais fácil chegar ao centro a partir dos subúrbios.
Aos sábados, a praça principal transforma-se num mercado cheio de fruta, flores e livros antigos.
Ao fim da tarde, o trânsito é tão lento que muitas pessoas preferem voltar para casa de bicicleta.
A biblioteca está aberta até às nove da noite e os estudantes ocupam todas as mesas.
Um pequeno parque entre os prédios altos dá às crianças um lugar para brincar.
No alto das montanhas, a água ferve a uma temperatura mais baixa porque a pressão do ar é menor.
Os investigadores mediram o crescimento das plantas todos os dias durante três meses.
A luz do sol demora cerca de oito minutos a chegar à Terra.
As abelhas ajudam muitas árvores de fruto ao levar o pólen de uma flor para outra.
Uma experiência simples com sal e gelo mostra como muda o ponto de congelação da água.
O telescópio na colina permite aos alunos observar as luas de Júpiter.
A equipa de futebol da cidade venceu o jogo com um golo no último minuto.
Ela corre cinco quilómetros à beira do lago todos os domingos de manhã.
Milhares de adeptos esperaram à porta do estádio para cumprimentar os jogadores.
A natação é um bom exercício porque trabalha o corpo todo sem magoar as articulações.
A final de ténis durou quase quatro horas e terminou depois da meia-noite.
O nosso treinador diz que treinar com regularidade conta mais do que o talento.
O novo telemóvel carrega em meia hora e a bateria dura dois dias.
Muitas lojas pequenas já aceitam pagamentos com cartão ou com o telemóvel.
Ele passou o fim de semana a reparar um portátil antigo e a instalar um sistema operativo novo.
A atualização do programa corrigiu vários erros, mas deixou-o mais lento nos computadores antigos.
Os engenheiros estão a testar autocarros elétricos que conseguem circular o dia inteiro com uma só carga.
Faça sempre uma cópia de segurança das suas fotografias antes de repor o dispositivo.
O castelo que domina a vila foi construído no século doze para proteger a estrada comercial.
Durante muitos séculos, o rio foi o caminho mais importante para mercadores e viajantes.
O museu mostra ferramentas, moedas e cerâmica encontradas na escavação junto à muralha antiga.
Os primeiros jornais impressos surgiram na Europa no século dezassete.
Depois do grande incêndio, a cidade foi reconstruída com ruas mais largas e casas de pedra.
O meu avô ainda se lembra do dia em que a eletricidade chegou à sua aldeia.
""",
    "ru": """
Утро началось серым и холодным, но к полудню солнце пробилось сквозь облака.
Ночью ожидается сильный дождь, поэтому не забудь закрыть окна перед сном.
Весной ветер с моря приносит в город прохладу даже в самые солнечные дни.
Мы ждали под мостом, пока гроза не ушла в сторону холмов.
Первый снег в этом году покрыл припаркованные машины тонким белым слоем.
После недели тумана вся деревня радовалась ясному голубому небу.
Бабушка всегда добавляет щепотку соли в тесто, прежде чем оставить его отдохнуть.
Мелко нарежьте лук и медленно обжаривайте его, пока он не станет мягким и золотистым.
Суп вкуснее на второй день, когда овощи успели как следует развариться.
На завтрак мы обычно едим хлеб с маслом, сыром и небольшим количеством мёда.
Он забыл рис на плите, и вся кухня пропахла дымом.
Хорошему томатному соусу нужно больше терпения, чем дорогих продуктов.
Ночной поезд отправился точно по расписанию и прибыл на побережье вскоре после рассвета.
Она взяла с собой только маленький рюкзак, потому что хотела неделю ходить по горам.
На границе офицер проверил наши паспорта и пожелал нам счастливого пути.
Мы взяли напрокат велосипеды и поехали по тропинке вдоль реки от одной деревни к другой.
Старая гавань полна маленьких лодок, кафе и туристов с фотоаппаратами.
Наш рейс задержали на три часа, и мы играли в карты у выхода на посадку.
Каждое утро пекарня на углу продаёт свежий хлеб длинной очереди соседей.
С новой линией трамвая стало гораздо проще добираться из пригородов в центр города.
По субботам главная площадь превращается в шумный рынок с фруктами, цветами и старыми книгами.
Вечером движение такое медленное, что многие теперь предпочитают ездить домой на велосипеде.
Библиотека работает до девяти часов вечера, и студенты занимают все столы.
Небольшой парк между высокими домами даёт детям место для игр.
Высоко в горах вода закипает при более низкой температуре, потому что давление воздуха там ниже.
Исследователи три месяца каждый день измеряли рост растений.
Свету от Солнца нужно около восьми минут, чтобы достичь Земли.
Пчёлы помогают многим фруктовым деревьям, перенося пыльцу с одного цветка на другой.
Простой опыт с солью и льдом показывает, как меняется температура замерзания воды.
Телескоп на холме позволяет школьникам наблюдать за спутниками Юпитера.
Местная футбольная команда выиграла матч благодаря голу на последней минуте.
Каждое воскресное утро она пробегает пять километров вдоль озера.
Тысячи болельщиков ждали у стадиона, чтобы поприветствовать игроков.
Плавание — хорошее упражнение, потому что оно тренирует всё тело и не вредит суставам.
Теннисный финал длился почти четыре часа и закончился после полуночи.
Наш тренер говорит, что регулярные тренировки важнее таланта.
Новый телефон заряжается за полчаса, а батареи хватает на два дня.
Многие небольшие магазины теперь принимают оплату картой или телефоном.
Он провёл выходные, ремонтируя старый ноутбук и устанавливая новую операционную систему.
Обновление программы исправило несколько ошибок, но замедлило её работу на старых компьютерах.
Инженеры испытывают электробусы, которые могут работать целый день на одной зарядке.
Всегда делайте резервную копию фотографий, прежде чем сбрасывать настройки устройства.
Замок над городом построили в двенадцатом веке, чтобы защищать торговую дорогу.
Много веков река была главным путём для купцов и путешественников.
В музее выставлены инструменты, монеты и керамика, найденные при раскопках у старой стены.
Первые печатные газеты появились в Европе в семнадцатом веке.
После большого пожара город отстроили заново, с широкими улицами и каменными домами.
Мой дедушка до сих пор помнит день, когда в его деревню провели электричество.
""",
    "uk": """
Ранок почався сірим і холодним, але до полудня сонце пробилося крізь хмари.
Уночі очікується сильний дощ, тому не забудь зачинити вікна перед сном.
Навесні вітер з моря приносить у місто прохолоду навіть у найсонячніші дні.
Ми чекали під мостом, доки гроза не пішла в бік пагорбів.
Перший сніг цього року вкрив припарковані машини тонким білим шаром.
Після тижня туману все село раділо ясному блакитному небу.
Бабуся завжди додає дрібку солі в тісто, перш ніж залишити його відпочити.
Дрібно наріжте цибулю й повільно обсмажуйте її, доки вона не стане м'якою та золотистою.
Суп смачніший на другий день, коли овочі встигли як слід розваритися.
На сніданок ми зазвичай їмо хліб з маслом, сиром і трохи меду.
Він забув рис на плиті, і вся кухня просякла димом.
Добрий томатний соус потребує більше терпіння, ніж дорогих продуктів.
Нічний потяг вирушив точно за розкладом і прибув на узбережжя невдовзі після світанку.
Вона взяла із собою лише маленький рюкзак, бо хотіла тиждень ходити горами.
На кордоні офіцер перевірив наші паспорти й побажав нам щасливої дороги.
Ми взяли напрокат велосипеди й поїхали стежкою вздовж річки від одного села до іншого.
Стара гавань повна маленьких човнів, кав'ярень і туристів з фотоапаратами.
Наш рейс затримали на три години, і ми грали в карти біля виходу на посадку.
Щоранку пекарня на розі продає свіжий хліб довгій черзі сусідів.
З новою трамвайною лінією стало набагато легше діставатися з передмість до центру міста.
Щосуботи головна площа перетворюється на гамірний ринок з фруктами, квітами та старими книжками.
Увечері рух такий повільний, що багато людей тепер воліють їздити додому на велосипеді.
Бібліотека працює до дев'ятої вечора, і студенти займають усі столи.
Невеликий парк між високими будинками дає дітям місце для ігор.
Високо в горах вода закипає за нижчої температури, бо тиск повітря там менший.
Дослідники три місяці щодня вимірювали ріст рослин.
Світлу від Сонця потрібно близько восьми хвилин, щоб досягти Землі.
Бджоли допомагають багатьом фруктовим деревам, переносячи пилок з однієї квітки на іншу.
Простий дослід із сіллю та льодом показує, як змінюється температура замерзання води.
Телескоп на пагорбі дає змогу школярам спостерігати за супутниками Юпітера.
Місцева футбольна команда виграла матч завдяки голу на останній хвилині.
Щонеділі вранці вона пробігає п'ять кілометрів уздовж озера.
Тисячі вболівальників чекали біля стадіону, щоб привітати гравців.
Плавання — добра вправа, бо воно тренує все тіло й не шкодить суглобам.
Тенісний фінал тривав майже чотири години й закінчився після півночі.
Наш тренер каже, що регулярні тренування важливіші за талант.
Новий телефон заряджається за пів години, а батареї вистачає на два дні.
Багато невеликих крамниць тепер приймають оплату карткою або телефоном.
Він провів вихідні, ремонтуючи старий ноутбук і встановлюючи нову операційну систему.
Оновлення програми виправило кілька помилок, але сповільнило її роботу на старих комп'ютерах.
Інженери випробовують електробуси, які можуть працювати цілий день на одному заряді.
Завжди робіть резервну копію фотографій, перш ніж скидати налаштування пристрою.
Замок над містом збудували у дванадцятому столітті, щоб захищати торговельний шлях.
Багато століть річка була головним шляхом для купців і мандрівників.
У музеї виставлено знаряддя, монети та кераміку, знайдені під час розкопок біля старого муру.
Перші друковані газети з'явилися в Європі в сімнадцятому столітті.
Після великої пожежі місто відбудували заново, з широкими вулицями та кам'яними будинками.
Мій дідусь досі пам'ятає день, коли до його села провели електрику.
""",
    "zh": """
早上天气又阴又冷，但到了中午，太阳已经穿过了云层。
今晚预计有大雨，睡觉前记得把窗户关好。
春天，从海上吹来的风让小城即使在最晴朗的午后也很凉爽。
我们在桥下等着，直到雷雨向山那边移去。
今年的第一场雪给停着的汽车盖上了一层薄薄的白色。
连续一周的大雾之后，村里的人终于又看到了晴朗的蓝天，大家都很高兴。
奶奶在让面团醒一会儿之前，总会往里面加一小撮盐。
把洋葱切得细细的，用小火慢慢炒，直到变软、变成金黄色。
汤放到第二天更好喝，因为蔬菜有足够的时间煮软入味。
我们早饭通常吃面包，配黄油、奶酪和一点蜂蜜。
他忘了灶上还煮着米饭，整个厨房都是烟味。
一份好的番茄酱汁需要的是耐心，而不是昂贵的食材。
夜班火车准时离开车站，日出后不久就到达了海边。
她只带了一个小背包，因为她想在山里徒步走一个星期。
在边境，工作人员检查了我们的护照，并祝我们旅途愉快。
我们租了自行车，沿着河边的小路从一个村子骑到另一个村子。
老港口里满是小船、咖啡馆和拍照的游客。
我们的航班延误了三个小时，于是我们在登机口打起了扑克。
每天早上，街角的面包店都会把新鲜面包卖给排着长队的邻居们。
新的有轨电车线路让从郊区去市中心方便多了。
每到星期六，中心广场就变成热闹的集市，卖水果、鲜花和旧书。
傍晚的交通慢得出奇，所以现在很多人宁愿骑车回家。
图书馆一直开到晚上九点，每张桌子都坐满了学生。
高楼之间的一个小公园给孩子们提供了玩耍的地方。
在高山上，水的沸点比较低，因为那里的气压更低。
研究人员连续三个月每天测量植物的生长情况。
太阳光大约需要八分钟才能到达地球。
蜜蜂把花粉从一朵花带到另一朵花，帮助了许多果树。
一个用盐和冰做的简单实验可以说明水的冰点是怎样变化的。
学生们可以用山上的望远镜观察木星的卫星。
本地足球队在最后一分钟打进一球，赢得了比赛。
她每个星期天早上都沿着湖边跑五公里。
成千上万的球迷等在体育场外面，想要迎接球员们。
游泳是很好的锻炼，它能锻炼全身，又不会伤到关节。
网球决赛打了将近四个小时，过了午夜才结束。
我们的教练说，坚持训练比天赋更重要。
这款新手机半个小时就能充满电，电池可以用两天。
现在很多小商店都可以用银行卡或手机付款。
他花了一个周末修理一台旧笔记本电脑，并重新安装了操作系统。
软件更新修复了几个错误，但让程序在旧电脑上运行得更慢了。
工程师们正在测试充一次电就能跑一整天的电动公交车。
在重置设备之前，一定要先备份你的照片。
城上方的城堡建于十二世纪，是为了保护那条商路。
许多世纪以来，这条河一直是商人和旅行者最重要的通道。
博物馆展出了在老城墙附近发掘出的工具、钱币和陶器。
欧洲最早的印刷报纸出现在十七世纪。
大火之后，这座城市重建了更宽的街道和石头房子。
我的爷爷至今还记得电第一次通到他们村子的那一天。
""",
    "ja": """
朝は曇っていて寒かったが、昼ごろには太陽が雲の間から顔を出した。
今夜は強い雨が予想されているので、寝る前に窓を閉めておいてください。
春になると、海から吹く風のおかげで、晴れた午後でも町は涼しい。
私たちは雷雨が丘の方へ去っていくまで、橋の下で待っていた。
今年の初雪が、駐車している車を薄く白く覆った。
一週間続いた霧が晴れて、村の人たちは久しぶりの青空を喜んだ。
祖母は生地を休ませる前に、必ず塩をひとつまみ加える。
玉ねぎを細かく刻み、柔らかくきつね色になるまでじっくり炒めます。
スープは野菜がよく煮えた二日目のほうがおいしい。
朝ごはんには、たいていバターとチーズと少しのはちみつを添えたパンを食べる。
彼はコンロにかけたご飯を忘れてしまい、台所じゅうが煙のにおいになった。
おいしいトマトソースに必要なのは、高い材料よりも根気だ。
夜行列車は時間どおりに駅を出発し、日の出の少し後に海岸に着いた。
彼女は一週間山を歩くつもりだったので、小さなリュックひとつだけを持っていった。
国境では係官がパスポートを確認し、よい旅をと声をかけてくれた。
私たちは自転車を借りて、川沿いの道を村から村へと走った。
古い港には小さな船やカフェ、写真を撮る観光客があふれている。
飛行機が三時間遅れたので、私たちは搭乗口でトランプをして過ごした。
毎朝、角のパン屋には焼きたてのパンを買う近所の人たちの長い列ができる。
新しい路面電車の路線ができて、郊外から町の中心へ行くのがずっと楽になった。
土曜日になると、中央広場は果物や花や古本が並ぶにぎやかな市場に変わる。
夕方の道路はとても混むので、最近は自転車で帰る人が増えている。
図書館は夜九時まで開いていて、どの机も学生でいっぱいだ。
高いビルの間にある小さな公園は、子どもたちの大切な遊び場になっている。
高い山の上では気圧が低いので、水はより低い温度で沸騰する。
研究者たちは三か月の間、毎日植物の成長を測定した。
太陽の光が地球に届くまでには、およそ八分かかる。
ミツバチは花から花へ花粉を運び、多くの果樹の役に立っている。
塩と氷を使った簡単な実験で、水の凝固点がどう変わるかがわかる。
丘の上の望遠鏡を使うと、生徒たちは木星の衛星を観察できる。
地元のサッカーチームは、最後の一分のゴールで試合に勝った。
彼女は毎週日曜日の朝、湖のまわりを五キロ走っている。
何千人ものファンが、選手たちを迎えるためにスタジアムの外で待っていた。
水泳は関節を痛めずに全身を鍛えられるので、よい運動だ。
テニスの決勝戦は四時間近く続き、真夜中過ぎにようやく終わった。
コーチは、才能よりも毎日の練習のほうが大事だと言う。
新しいスマートフォンは三十分で充電でき、電池は二日もつ。
今では多くの小さな店で、カードやスマートフォンで支払いができる。
彼は週末を使って古いノートパソコンを修理し、新しいOSをインストールした。
ソフトウェアの更新でいくつかの不具合が直ったが、古いパソコンでは動作が遅くなった。
技術者たちは、一回の充電で一日中走れる電気バスを試験している。
端末を初期化する前に、必ず写真のバックアップを取っておこう。
町を見下ろす城は、交易路を守るために十二世紀に建てられた。
何百年もの間、この川は商人や旅人にとって最も重要な道だった。
博物館には、古い城壁の近くの発掘で見つかった道具や硬貨、陶器が展示されている。
ヨーロッパで最初の印刷された新聞は、十七世紀に登場した。
大火事のあと、町は広い通りと石造りの家で建て直された。
祖父は、村に初めて電気が来た日のことを今でも覚えている。
""",
    "ar": """
بدأ الصباح رماديًا وباردًا، لكن الشمس اخترقت الغيوم عند الظهر.
يُتوقع هطول أمطار غزيرة الليلة، فلا تنسَ إغلاق النوافذ قبل النوم.
في الربيع تحافظ الرياح القادمة من البحر على برودة المدينة حتى في أكثر الأيام إشراقًا.
انتظرنا تحت الجسر حتى ابتعدت العاصفة الرعدية نحو التلال.
غطّى أول ثلج في هذا العام السيارات المتوقفة بطبقة بيضاء رقيقة.
بعد أسبوع من الضباب، فرح أهل القرية برؤية السماء الزرقاء الصافية من جديد.
تضيف جدتي دائمًا رشة من الملح إلى العجين قبل أن تتركه ليرتاح.
قطّع البصل ناعمًا واقلِه على نار هادئة حتى يصبح طريًا وذهبي اللون.
يكون طعم الحساء أفضل في اليوم التالي، عندما تأخذ الخضار وقتها لتنضج جيدًا.
نأكل في الفطور عادةً الخبز مع الزبدة والجبن وقليل من العسل.
نسي الأرز على الموقد، فامتلأ المطبخ كله برائحة الدخان.
تحتاج صلصة الطماطم الجيدة إلى الصبر أكثر من المكونات الغالية.
غادر قطار الليل المحطة في موعده ووصل إلى الساحل بعد شروق الشمس بقليل.
حملت حقيبة صغيرة واحدة فقط، لأنها أرادت أن تمشي في الجبال لمدة أسبوع.
عند الحدود فحص الموظف جوازات سفرنا وتمنى لنا رحلة سعيدة.
استأجرنا دراجات وسرنا على الطريق المحاذي للنهر من قرية إلى أخرى.
الميناء القديم مليء بالقوارب الصغيرة والمقاهي والسياح الذين يلتقطون الصور.
تأخرت رحلتنا ثلاث ساعات، فلعبنا الورق عند بوابة الصعود.
كل صباح يبيع المخبز الذي على الزاوية الخبز الطازج لطابور طويل من الجيران.
جعل خط الترام الجديد الوصول إلى وسط المدينة من الضواحي أسهل بكثير.
في أيام السبت تتحول الساحة الرئيسية إلى سوق مزدحم بالفواكه والزهور والكتب القديمة.
حركة المرور في المساء بطيئة جدًا، لذلك يفضل كثير من الناس العودة إلى البيت بالدراجة.
تبقى المكتبة مفتوحة حتى الساعة التاسعة مساءً، ويملأ الطلاب كل الطاولات.
تمنح حديقة صغيرة بين المباني العالية الأطفال مكانًا للعب.
يغلي الماء في أعالي الجبال عند درجة حرارة أقل لأن ضغط الهواء هناك أقل.
قاس الباحثون نمو النباتات كل يوم لمدة ثلاثة أشهر.
يحتاج ضوء الشمس إلى نحو ثماني دقائق ليصل إلى الأرض.
يساعد النحل كثيرًا من أشجار الفاكهة بنقل حبوب اللقاح من زهرة إلى أخرى.
تُظهر تجربة بسيطة بالملح والجليد كيف تتغير درجة تجمد الماء.
يتيح التلسكوب الموجود على التل للطلاب رصد أقمار كوكب المشتري.
فاز فريق كرة القدم المحلي بالمباراة بهدف متأخر في الدقيقة الأخيرة.
تجري خمسة كيلومترات على ضفة البحيرة كل صباح يوم أحد.
انتظر آلاف المشجعين خارج الملعب لتحية اللاعبين.
السباحة تمرين جيد لأنها تقوّي الجسم كله دون أن تؤذي المفاصل.
استمرت المباراة النهائية في التنس قرابة أربع ساعات وانتهت بعد منتصف الليل.
يقول مدربنا إن التدريب المنتظم أهم من الموهبة.
يُشحن الهاتف الجديد في نصف ساعة وتدوم بطاريته يومين.
تقبل كثير من المتاجر الصغيرة الآن الدفع بالبطاقة أو بالهاتف المحمول.
قضى عطلة نهاية الأسبوع في إصلاح حاسوب محمول قديم وتثبيت نظام تشغيل جديد.
أصلح تحديث البرنامج عدة أخطاء، لكنه جعله أبطأ على الحواسيب القديمة.
يختبر المهندسون حافلات كهربائية تستطيع العمل طوال اليوم بشحنة واحدة.
احرص دائمًا على نسخ صورك احتياطيًا قبل إعادة ضبط الجهاز.
بُنيت القلعة المطلة على المدينة في القرن الثاني عشر لحماية طريق التجارة.
ظل النهر لقرون طويلة أهم طريق للتجار والمسافرين.
يعرض المتحف أدوات وعملات وفخارًا عُثر عليها أثناء التنقيب قرب السور القديم.
ظهرت أولى الصحف المطبوعة في أوروبا في القرن السابع عشر.
بعد الحريق الكبير أُعيد بناء المدينة بشوارع أوسع وبيوت من الحجر.
ما زال جدي يتذكر اليوم الذي وصلت فيه الكهرباء إلى قريته.
""",
    "hi": """
सुबह धूसर और ठंडी थी, लेकिन दोपहर तक सूरज बादलों के बीच से निकल आया।
आज रात तेज़ बारिश होने की उम्मीद है, इसलिए सोने से पहले खिड़कियाँ बंद करना न भूलें।
वसंत में समुद्र से आने वाली हवा सबसे धूप वाली दोपहर में भी शहर को ठंडा रखती है।
हम पुल के नीचे तब तक इंतज़ार करते रहे जब तक तूफ़ान पहाड़ियों की ओर नहीं चला गया।
साल की पहली बर्फ़ ने खड़ी गाड़ियों को एक पतली सफ़ेद परत से ढक दिया।
एक हफ़्ते के कोहरे के बाद गाँव के सभी लोग फिर से साफ़ नीला आसमान देखकर खुश हुए।
मेरी दादी आटे को रखने से पहले उसमें हमेशा एक चुटकी नमक डालती हैं।
प्याज़ को बारीक काटें और धीमी आँच पर तब तक भूनें जब तक वह नरम और सुनहरा न हो जाए।
सूप अगले दिन ज़्यादा स्वादिष्ट लगता है, जब सब्ज़ियाँ अच्छी तरह गल जाती हैं।
नाश्ते में हम आमतौर पर मक्खन, चीज़ और थोड़े से शहद के साथ ब्रेड खाते हैं।
वह चूल्हे पर चावल भूल गया और पूरी रसोई में धुएँ की गंध भर गई।
अच्छी टमाटर की चटनी के लिए महँगी सामग्री से ज़्यादा धैर्य की ज़रूरत होती है।
रात की ट्रेन समय पर स्टेशन से निकली और सूर्योदय के कुछ देर बाद तट पर पहुँच गई।
उसने सिर्फ़ एक छोटा बैग लिया, क्योंकि वह एक हफ़्ते तक पहाड़ों में पैदल घूमना चाहती थी।
सीमा पर अधिकारी ने हमारे पासपोर्ट जाँचे और हमें सुखद यात्रा की शुभकामनाएँ दीं।
हमने साइकिलें किराए पर लीं और नदी के किनारे वाले रास्ते पर एक गाँव से दूसरे गाँव तक गए।
पुराना बंदरगाह छोटी नावों, कैफ़े और तस्वीरें खींचते पर्यटकों से भरा रहता है।
हमारी उड़ान तीन घंटे देर से थी, इसलिए हमने गेट पर ताश खेला।
हर सुबह नुक्कड़ की बेकरी पड़ोसियों की लंबी कतार को ताज़ी ब्रेड बेचती है।
नई ट्राम लाइन से उपनगरों से शहर के केंद्र तक पहुँचना बहुत आसान हो गया है।
शनिवार को मुख्य चौक फलों, फूलों और पुरानी किताबों वाले भीड़-भरे बाज़ार में बदल जाता है।
शाम को यातायात इतना धीमा होता है कि अब बहुत से लोग साइकिल से घर जाना पसंद करते हैं।
पुस्तकालय रात नौ बजे तक खुला रहता है और हर मेज़ पर छात्र बैठे होते हैं।
ऊँची इमारतों के बीच एक छोटा पार्क बच्चों को खेलने की जगह देता है।
ऊँचे पहाड़ों पर पानी कम तापमान पर उबलता है, क्योंकि वहाँ हवा का दबाव कम होता है।
शोधकर्ताओं ने तीन महीने तक हर दिन पौधों की बढ़त मापी।
सूरज की रोशनी को पृथ्वी तक पहुँचने में लगभग आठ मिनट लगते हैं।
मधुमक्खियाँ एक फूल से दूसरे फूल तक पराग ले जाकर कई फलदार पेड़ों की मदद करती हैं।
नमक और बर्फ़ के साथ एक आसान प्रयोग दिखाता है कि पानी का हिमांक कैसे बदलता है।
पहाड़ी पर लगी दूरबीन से छात्र बृहस्पति के चंद्रमाओं को देख सकते हैं।
स्थानीय फ़ुटबॉल टीम ने आख़िरी मिनट में किए गए गोल से मैच जीत लिया।
वह हर रविवार सुबह झील के किनारे पाँच किलोमीटर दौड़ती है।
हज़ारों प्रशंसक खिलाड़ियों का स्वागत करने के लिए स्टेडियम के बाहर इंतज़ार कर रहे थे।
तैराकी एक अच्छा व्यायाम है, क्योंकि यह जोड़ों को नुकसान पहुँचाए बिना पूरे शरीर को मज़बूत करती है।
टेनिस का फ़ाइनल लगभग चार घंटे चला और आधी रात के बाद ख़त्म हुआ।
हमारे कोच कहते हैं कि नियमित अभ्यास प्रतिभा से ज़्यादा मायने रखता है।
नया फ़ोन आधे घंटे में चार्ज हो जाता है और उसकी बैटरी दो दिन चलती है।
अब कई छोटी दुकानें कार्ड या मोबाइल फ़ोन से भुगतान स्वीकार करती हैं।
उसने सप्ताहांत एक पुराने लैपटॉप की मरम्मत करने और नया ऑपरेटिंग सिस्टम डालने में बिताया।
सॉफ़्टवेयर अपडेट ने कई गड़बड़ियाँ ठीक कर दीं, लेकिन पुराने कंप्यूटरों पर प्रोग्राम धीमा हो गया।
इंजीनियर ऐसी बिजली से चलने वाली बसों का परीक्षण कर रहे हैं जो एक बार चार्ज करने पर पूरे दिन चल सकती हैं।
डिवाइस को रीसेट करने से पहले अपनी तस्वीरों का बैकअप ज़रूर लें।
शहर के ऊपर बना किला बारहवीं सदी में व्यापार मार्ग की रक्षा के लिए बनाया गया था।
कई सदियों तक यह नदी व्यापारियों और यात्रियों के लिए सबसे महत्वपूर्ण रास्ता रही।
संग्रहालय में पुरानी दीवार के पास खुदाई में मिले औज़ार, सिक्के और मिट्टी के बर्तन रखे गए हैं।
यूरोप में पहले छपे हुए अख़बार सत्रहवीं सदी में निकले।
बड़ी आग के बाद शहर को चौड़ी सड़कों और पत्थर के मकानों के साथ फिर से बनाया गया।
मेरे दादाजी को आज भी वह दिन याद है जब उनके गाँव में बिजली आई थी।
""",
    "el": """
Το πρωί ξεκίνησε γκρίζο και κρύο, αλλά μέχρι το μεσημέρι ο ήλιος είχε διαπεράσει τα σύννεφα.
Απόψε αναμένεται δυνατή βροχή, γι' αυτό θυμήσου να κλείσεις τα παράθυρα πριν πας για ύπνο.
Την άνοιξη ο αέρας από τη θάλασσα κρατά την πόλη δροσερή ακόμη και τα πιο φωτεινά απογεύματα.
Περιμέναμε κάτω από τη γέφυρα μέχρι να απομακρυνθεί η καταιγίδα προς τους λόφους.
Το πρώτο χιόνι της χρονιάς σκέπασε τα παρκαρισμένα αυτοκίνητα με ένα λεπτό λευκό στρώμα.
Μετά από μια εβδομάδα ομίχλης, όλο το χωριό χάρηκε που είδε ξανά καθαρό γαλάζιο ουρανό.
Η γιαγιά μου προσθέτει πάντα μια πρέζα αλάτι στη ζύμη πριν την αφήσει να ξεκουραστεί.
Ψιλοκόψτε τα κρεμμύδια και τσιγαρίστε τα σιγά σιγά μέχρι να μαλακώσουν και να χρυσίσουν.
Η σούπα είναι πιο νόστιμη τη δεύτερη μέρα, όταν τα λαχανικά έχουν μαλακώσει καλά.
Για πρωινό συνήθως τρώμε ψωμί με βούτυρο, τυρί και λίγο μέλι.
Ξέχασε το ρύζι στην κουζίνα και όλο το σπίτι μύρισε καπνό.
Μια καλή σάλτσα ντομάτας θέλει περισσότερη υπομονή παρά ακριβά υλικά.
Το νυχτερινό τρένο έφυγε από τον σταθμό στην ώρα του και έφτασε στην ακτή λίγο μετά την ανατολή του ηλίου.
Πήρε μόνο ένα μικρό σακίδιο, γιατί ήθελε να περπατήσει μια εβδομάδα στα βουνά.
Στα σύνορα ο υπάλληλος έλεγξε τα διαβατήριά μας και μας ευχήθηκε καλό ταξίδι.
Νοικιάσαμε ποδήλατα και ακολουθήσαμε το μονοπάτι δίπλα στο ποτάμι από χωριό σε χωριό.
Το παλιό λιμάνι είναι γεμάτο μικρές βάρκες, καφετέριες και τουρίστες που βγάζουν φωτογραφίες.
Η πτήση μας είχε τρεις ώρες καθυστέρηση, οπότε παίξαμε χαρτιά στην πύλη.
Κάθε πρωί ο φούρνος στη γωνία πουλά φρέσκο ψωμί σε μια μεγάλη ουρά από γείτονες.
Η νέα γραμμή του τραμ έκανε πολύ πιο εύκολη τη μετακίνηση από τα προάστια στο κέντρο της πόλης.
Τα Σάββατα η κεντρική πλατεία γίνεται μια πολύβουη αγορά με φρούτα, λουλούδια και παλιά βιβλία.
Το βράδυ η κίνηση είναι τόσο αργή που πολλοί προτιμούν πια να γυρίζουν σπίτι με ποδήλατο.
Η βιβλιοθήκη μένει ανοιχτή μέχρι τις εννιά το βράδυ και οι φοιτητές γεμίζουν όλα τα τραπέζια.
Ένα μικρό πάρκο ανάμεσα στις ψηλές πολυκατοικίες δίνει στα παιδιά ένα μέρος για να παίζουν.
Ψηλά στα βουνά το νερό βράζει σε χαμηλότερη θερμοκρασία, επειδή η ατμοσφαιρική πίεση είναι μικρότερη.
Οι ερευνητές μετρούσαν την ανάπτυξη των φυτών κάθε μέρα για τρεις μήνες.
Το φως του ήλιου χρειάζεται περίπου οκτώ λεπτά για να φτάσει στη Γη.
Οι μέλισσες βοηθούν πολλά οπωροφόρα δέντρα μεταφέροντας γύρη από λουλούδι σε λουλούδι.
Ένα απλό πείραμα με αλάτι και πάγο δείχνει πώς αλλάζει το σημείο πήξης του νερού.
Το τηλεσκόπιο στον λόφο επιτρέπει στους μαθητές να παρατηρούν τους δορυφόρους του Δία.
Η τοπική ποδοσφαιρική ομάδα κέρδισε τον αγώνα με ένα γκολ στο τελευταίο λεπτό.
Κάθε Κυριακή πρωί τρέχει πέντε χιλιόμετρα γύρω από τη λίμνη.
Χιλιάδες φίλαθλοι περίμεναν έξω από το γήπεδο για να χαιρετήσουν τους παίκτες.
Η κολύμβηση είναι καλή άσκηση, γιατί γυμνάζει όλο το σώμα χωρίς να επιβαρύνει τις αρθρώσεις.
Ο τελικός του τένις κράτησε σχεδόν τέσσερις ώρες και τελείωσε μετά τα μεσάνυχτα.
Ο προπονητής μας λέει ότι η τακτική προπόνηση μετράει περισσότερο από το ταλέντο.
Το νέο κινητό φορτίζει σε μισή ώρα και η μπαταρία κρατάει δύο μέρες.
Πολλά μικρά καταστήματα δέχονται πλέον πληρωμές με κάρτα ή με κινητό.
Πέρασε το Σαββατοκύριακο επισκευάζοντας έναν παλιό φορητό υπολογιστή και εγκαθιστώντας νέο λειτουργικό σύστημα.
Η ενημέρωση του λογισμικού διόρθωσε αρκετά σφάλματα, αλλά έκανε το πρόγραμμα πιο αργό στους παλιούς υπολογιστές.
Οι μηχανικοί δοκιμάζουν ηλεκτρικά λεωφορεία που μπορούν να κινούνται όλη μέρα με μία φόρτιση.
Να κρατάς πάντα αντίγραφο ασφαλείας των φωτογραφιών σου πριν κάνεις επαναφορά της συσκευής.
Το κάστρο πάνω από την πόλη χτίστηκε τον δωδέκατο αιώνα για να προστατεύει τον εμπορικό δρόμο.
Για πολλούς αιώνες το ποτάμι ήταν ο σημαντικότερος δρόμος για εμπόρους και ταξιδιώτες.
Το μουσείο εκθέτει εργαλεία, νομίσματα και κεραμικά που βρέθηκαν στην ανασκαφή κοντά στο παλιό τείχος.
Οι πρώτες τυπωμένες εφημερίδες εμφανίστηκαν στην Ευρώπη τον δέκατο έβδομο αιώνα.
Μετά τη μεγάλη πυρκαγιά η πόλη ξαναχτίστηκε με φαρδύτερους δρόμους και πέτρινα σπίτια.
Ο παππούς μου θυμάται ακόμη τη μέρα που ήρθε το ρεύμα στο χωριό του.
""",
    "ko": """
아침에는 흐리고 추웠지만 정오쯤에는 해가 구름 사이로 나왔다.
오늘 밤에는 많은 비가 예상되니 자기 전에 창문을 꼭 닫으세요.
봄에는 바다에서 불어오는 바람 덕분에 가장 화창한 오후에도 도시가 시원하다.
우리는 천둥번개가 언덕 쪽으로 물러갈 때까지 다리 밑에서 기다렸다.
올해 첫눈이 주차된 자동차들을 얇고 하얗게 덮었다.
일주일 동안 안개가 낀 뒤에 마을 사람들은 다시 맑고 파란 하늘을 보고 기뻐했다.
할머니는 반죽을 숙성시키기 전에 항상 소금을 한 꼬집 넣으신다.
양파를 잘게 썰어 부드럽고 노릇해질 때까지 약한 불에서 천천히 볶으세요.
국은 채소가 충분히 익은 다음 날에 더 맛있다.
우리는 아침으로 보통 버터와 치즈, 꿀을 조금 곁들인 빵을 먹는다.
그는 불 위에 올려 둔 밥을 깜빡해서 부엌 전체에 탄 냄새가 났다.
좋은 토마토소스에는 비싼 재료보다 인내심이 더 필요하다.
야간열차는 제시간에 역을 떠나 해가 뜬 직후에 바닷가에 도착했다.
그녀는 일주일 동안 산을 걸을 생각이어서 작은 배낭 하나만 챙겼다.
국경에서 직원이 우리 여권을 확인하고 즐거운 여행을 하라고 인사했다.
우리는 자전거를 빌려 강변길을 따라 이 마을에서 저 마을로 달렸다.
오래된 항구는 작은 배와 카페, 사진을 찍는 관광객들로 가득하다.
비행기가 세 시간이나 늦어져서 우리는 탑승구 앞에서 카드놀이를 했다.
매일 아침 모퉁이 빵집 앞에는 갓 구운 빵을 사려는 이웃들이 길게 줄을 선다.
새 트램 노선이 생겨서 교외에서 시내 중심까지 가기가 훨씬 쉬워졌다.
토요일마다 중앙 광장은 과일과 꽃, 헌책을 파는 북적이는 시장으로 바뀐다.
저녁에는 길이 너무 막혀서 요즘은 자전거로 퇴근하는 사람이 많다.
도서관은 밤 아홉 시까지 문을 열고, 모든 책상이 학생들로 가득 찬다.
높은 건물들 사이에 있는 작은 공원은 아이들에게 놀 곳을 마련해 준다.
높은 산 위에서는 기압이 낮기 때문에 물이 더 낮은 온도에서 끓는다.
연구자들은 석 달 동안 매일 식물의 성장을 측정했다.
햇빛이 지구에 닿기까지는 약 8분이 걸린다.
벌은 꽃가루를 이 꽃에서 저 꽃으로 옮겨 많은 과일나무를 돕는다.
소금과 얼음을 이용한 간단한 실험으로 물의 어는점이 어떻게 바뀌는지 알 수 있다.
언덕 위의 망원경으로 학생들은 목성의 위성을 관찰할 수 있다.
지역 축구팀이 마지막 1분에 터진 골로 경기에서 이겼다.
그녀는 매주 일요일 아침 호숫가를 따라 5킬로미터를 달린다.
수천 명의 팬들이 선수들을 맞이하려고 경기장 밖에서 기다렸다.
수영은 관절에 무리를 주지 않고 온몸을 단련할 수 있어서 좋은 운동이다.
테니스 결승전은 거의 네 시간 동안 이어지다가 자정이 넘어서야 끝났다.
우리 코치는 재능보다 꾸준한 훈련이 더 중요하다고 말한다.
새 휴대전화는 30분이면 충전되고 배터리는 이틀 동안 간다.
요즘은 작은 가게들도 카드나 휴대전화로 결제를 받는다.
그는 주말 동안 오래된 노트북을 고치고 새 운영체제를 설치했다.
소프트웨어 업데이트로 몇 가지 오류가 고쳐졌지만 오래된 컴퓨터에서는 프로그램이 느려졌다.
엔지니어들은 한 번 충전으로 하루 종일 달릴 수 있는 전기 버스를 시험하고 있다.
기기를 초기화하기 전에 사진을 반드시 백업해 두세요.
도시를 내려다보는 성은 교역로를 지키기 위해 12세기에 지어졌다.
수백 년 동안 이 강은 상인과 여행자들에게 가장 중요한 길이었다.
박물관에는 옛 성벽 근처 발굴에서 나온 도구와 동전, 도자기가 전시되어 있다.
유럽 최초의 인쇄 신문은 17세기에 등장했다.
큰불이 난 뒤 도시는 넓은 길과 돌집으로 다시 지어졌다.
할아버지는 마을에 처음 전기가 들어온 날을 아직도 기억하신다.
""",
}

# Page furniture for the WARC pages: topic names (TOPICS order), nav menu, footer line.
TOPIC_NAMES = {
    "en": "Weather|Cooking|Travel|City life|Science|Sport|Technology|History",
    "de": "Wetter|Kochen|Reisen|Stadtleben|Wissenschaft|Sport|Technik|Geschichte",
    "fr": "Météo|Cuisine|Voyages|Vie urbaine|Sciences|Sport|Technologie|Histoire",
    "es": "El tiempo|Cocina|Viajes|Vida urbana|Ciencia|Deporte|Tecnología|Historia",
    "pt": "Tempo|Culinária|Viagens|Vida na cidade|Ciência|Desporto|Tecnologia|História",
    "ru": "Погода|Кулинария|Путешествия|Городская жизнь|Наука|Спорт|Технологии|История",
    "uk": "Погода|Кулінарія|Подорожі|Міське життя|Наука|Спорт|Технології|Історія",
    "zh": "天气|烹饪|旅行|城市生活|科学|体育|科技|历史",
    "ja": "天気|料理|旅行|街の暮らし|科学|スポーツ|テクノロジー|歴史",
    "ar": "الطقس|الطبخ|السفر|حياة المدينة|العلوم|الرياضة|التكنولوجيا|التاريخ",
    "hi": "मौसम|खाना पकाना|यात्रा|शहरी जीवन|विज्ञान|खेल|तकनीक|इतिहास",
    "el": "Καιρός|Μαγειρική|Ταξίδια|Ζωή στην πόλη|Επιστήμη|Αθλητισμός|Τεχνολογία|Ιστορία",
    "ko": "날씨|요리|여행|도시 생활|과학|스포츠|기술|역사",
}
NAV = {  # home, news, about, contact
    "en": "Home|News|About us|Contact",
    "de": "Startseite|Nachrichten|Über uns|Kontakt",
    "fr": "Accueil|Actualités|À propos|Contact",
    "es": "Inicio|Noticias|Quiénes somos|Contacto",
    "pt": "Início|Notícias|Sobre nós|Contactos",
    "ru": "Главная|Новости|О нас|Контакты",
    "uk": "Головна|Новини|Про нас|Контакти",
    "zh": "首页|新闻|关于我们|联系我们",
    "ja": "ホーム|ニュース|会社概要|お問い合わせ",
    "ar": "الرئيسية|الأخبار|من نحن|اتصل بنا",
    "hi": "मुखपृष्ठ|समाचार|हमारे बारे में|संपर्क",
    "el": "Αρχική|Νέα|Σχετικά με εμάς|Επικοινωνία",
    "ko": "홈|뉴스|회사 소개|문의하기",
}
FOOTER = {
    "en": "All rights reserved.",
    "de": "Alle Rechte vorbehalten.",
    "fr": "Tous droits réservés.",
    "es": "Todos los derechos reservados.",
    "pt": "Todos os direitos reservados.",
    "ru": "Все права защищены.",
    "uk": "Усі права захищено.",
    "zh": "版权所有。",
    "ja": "無断転載を禁じます。",
    "ar": "جميع الحقوق محفوظة.",
    "hi": "सर्वाधिकार सुरक्षित।",
    "el": "Με επιφύλαξη παντός δικαιώματος.",
    "ko": "모든 권리 보유.",
}

# ---------------------------------------------------------------------------------------------
# Labeled topic set: 12 sentences per label per language; line i is the same content in every
# language (labels in LABELS order, 12 lines each).
# ---------------------------------------------------------------------------------------------

LABELS = ("sport", "food", "tech", "weather")
LABELED = {
    "en": """
The team scored twice in the second half and won the cup.
She trains at the swimming pool every morning before work.
The referee showed a red card after a rough tackle.
Our basketball club is looking for new players this season.
He finished the marathon in just under three hours.
The cyclists climbed the steep mountain pass in heavy rain.
The goalkeeper saved a penalty in the last minute of the game.
Tickets for the final match were sold out within an hour.
The young runner broke the national record in the 400 metres.
After the injury, the striker will miss the next four games.
The tennis player served very well and won in straight sets.
Our school's volleyball team reached the regional final.
Add the garlic to the pan and stir until it smells sweet.
This bakery makes the best apple cake in town.
For dinner we had grilled fish with potatoes and a green salad.
Let the dough rise for an hour before you bake the bread.
The restaurant serves a spicy bean soup every Thursday.
Fresh strawberries with cream are my favourite summer dessert.
Boil the pasta in salted water for about ten minutes.
She bought cheese, olives and tomatoes at the market.
The chef cuts the vegetables into small cubes before cooking them.
This recipe needs two eggs, a cup of milk and some flour.
We made pancakes with honey for breakfast on Sunday.
The chicken should roast in the oven for about one hour.
The new laptop has a faster processor and a brighter screen.
Please restart your computer to finish installing the update.
The app lets you pay for parking with your phone.
Our company moved all its files to a cloud server last year.
Hackers stole thousands of passwords from the online shop.
This smartwatch measures your heart rate and counts your steps.
The programmer fixed the bug in the login page.
A faster internet connection is coming to rural areas next year.
The robot in the factory packs boxes without any break.
You can connect the printer to the network without a cable.
The company released a new version of its operating system.
Engineers are building a battery that charges in five minutes.
Tomorrow will be sunny with temperatures around twenty-five degrees.
Strong winds and heavy rain are expected along the coast tonight.
It snowed all night, and the roads are icy this morning.
The fog should clear by noon, and the afternoon will be dry.
A thunderstorm is moving in from the west this evening.
This summer was the hottest one in the region for fifty years.
Take an umbrella, because showers are likely in the afternoon.
The temperature will drop below zero in the mountains tonight.
After a week of rain, the sun finally came out on Sunday.
Light snow is possible on Friday, mainly in the north.
The weather service warns of a heatwave later this week.
Clouds will increase during the day, but it will stay dry.
""",
    "de": """
Die Mannschaft traf in der zweiten Halbzeit zweimal und gewann den Pokal.
Sie trainiert jeden Morgen vor der Arbeit im Schwimmbad.
Der Schiedsrichter zeigte nach einem groben Foul die Rote Karte.
Unser Basketballverein sucht in dieser Saison neue Spieler.
Er lief den Marathon in knapp unter drei Stunden.
Die Radfahrer fuhren bei starkem Regen den steilen Bergpass hinauf.
Der Torwart hielt in der letzten Spielminute einen Elfmeter.
Die Karten für das Endspiel waren innerhalb einer Stunde ausverkauft.
Die junge Läuferin stellte über 400 Meter einen neuen Landesrekord auf.
Nach der Verletzung wird der Stürmer die nächsten vier Spiele verpassen.
Der Tennisspieler schlug sehr gut auf und gewann glatt in drei Sätzen.
Die Volleyballmannschaft unserer Schule erreichte das Regionalfinale.
Gib den Knoblauch in die Pfanne und rühre, bis er süßlich duftet.
Diese Bäckerei backt den besten Apfelkuchen der Stadt.
Zum Abendessen gab es gegrillten Fisch mit Kartoffeln und grünem Salat.
Lass den Teig eine Stunde gehen, bevor du das Brot backst.
Das Restaurant serviert jeden Donnerstag eine scharfe Bohnensuppe.
Frische Erdbeeren mit Sahne sind mein liebster Sommernachtisch.
Koche die Nudeln etwa zehn Minuten in Salzwasser.
Sie kaufte auf dem Markt Käse, Oliven und Tomaten.
Der Koch schneidet das Gemüse in kleine Würfel, bevor er es gart.
Für dieses Rezept braucht man zwei Eier, eine Tasse Milch und etwas Mehl.
Am Sonntag haben wir zum Frühstück Pfannkuchen mit Honig gemacht.
Das Hähnchen sollte etwa eine Stunde im Ofen braten.
Der neue Laptop hat einen schnelleren Prozessor und einen helleren Bildschirm.
Bitte starte deinen Computer neu, um die Installation des Updates abzuschließen.
Mit der App kann man das Parken mit dem Handy bezahlen.
Unsere Firma hat letztes Jahr alle Dateien auf einen Cloud-Server verschoben.
Hacker haben Tausende Passwörter aus dem Onlineshop gestohlen.
Diese Smartwatch misst den Puls und zählt die Schritte.
Der Programmierer hat den Fehler auf der Anmeldeseite behoben.
Nächstes Jahr kommt schnelleres Internet auch in ländliche Gegenden.
Der Roboter in der Fabrik packt ohne Pause Kisten.
Du kannst den Drucker ohne Kabel mit dem Netzwerk verbinden.
Die Firma hat eine neue Version ihres Betriebssystems veröffentlicht.
Ingenieure bauen einen Akku, der in fünf Minuten aufgeladen ist.
Morgen wird es sonnig bei Temperaturen um fünfundzwanzig Grad.
Heute Nacht werden an der Küste starker Wind und heftiger Regen erwartet.
Es hat die ganze Nacht geschneit, und heute Morgen sind die Straßen glatt.
Der Nebel soll sich bis Mittag auflösen, und der Nachmittag bleibt trocken.
Heute Abend zieht von Westen ein Gewitter heran.
Dieser Sommer war der heißeste in der Region seit fünfzig Jahren.
Nimm einen Regenschirm mit, denn am Nachmittag gibt es wahrscheinlich Schauer.
In den Bergen sinkt die Temperatur heute Nacht unter null.
Nach einer Woche Regen kam am Sonntag endlich die Sonne heraus.
Am Freitag ist leichter Schneefall möglich, vor allem im Norden.
Der Wetterdienst warnt für Ende der Woche vor einer Hitzewelle.
Im Laufe des Tages ziehen mehr Wolken auf, aber es bleibt trocken.
""",
    "fr": """
L'équipe a marqué deux fois en deuxième mi-temps et a remporté la coupe.
Elle s'entraîne à la piscine tous les matins avant le travail.
L'arbitre a sorti un carton rouge après un tacle violent.
Notre club de basket cherche de nouveaux joueurs cette saison.
Il a terminé le marathon en un peu moins de trois heures.
Les cyclistes ont gravi le col escarpé sous une pluie battante.
Le gardien a arrêté un penalty à la dernière minute du match.
Les billets pour la finale ont été vendus en moins d'une heure.
La jeune coureuse a battu le record national du 400 mètres.
Après sa blessure, l'attaquant manquera les quatre prochains matchs.
Le joueur de tennis a très bien servi et a gagné en trois sets secs.
L'équipe de volley de notre école s'est qualifiée pour la finale régionale.
Ajoutez l'ail dans la poêle et remuez jusqu'à ce qu'il sente bon.
Cette boulangerie fait la meilleure tarte aux pommes de la ville.
Au dîner, nous avons mangé du poisson grillé avec des pommes de terre et une salade verte.
Laissez lever la pâte pendant une heure avant de cuire le pain.
Le restaurant sert une soupe de haricots épicée tous les jeudis.
Les fraises fraîches à la crème sont mon dessert d'été préféré.
Faites cuire les pâtes dans de l'eau salée pendant environ dix minutes.
Elle a acheté du fromage, des olives et des tomates au marché.
Le chef coupe les légumes en petits dés avant de les cuire.
Cette recette demande deux œufs, une tasse de lait et un peu de farine.
Dimanche, nous avons fait des crêpes au miel pour le petit déjeuner.
Le poulet doit rôtir au four pendant environ une heure.
Le nouvel ordinateur portable a un processeur plus rapide et un écran plus lumineux.
Veuillez redémarrer votre ordinateur pour terminer l'installation de la mise à jour.
L'application permet de payer le stationnement avec son téléphone.
Notre entreprise a transféré tous ses fichiers sur un serveur cloud l'an dernier.
Des pirates ont volé des milliers de mots de passe sur la boutique en ligne.
Cette montre connectée mesure le rythme cardiaque et compte les pas.
Le programmeur a corrigé le bug de la page de connexion.
Une connexion internet plus rapide arrivera dans les zones rurales l'année prochaine.
Le robot de l'usine emballe des cartons sans aucune pause.
Vous pouvez connecter l'imprimante au réseau sans câble.
L'entreprise a publié une nouvelle version de son système d'exploitation.
Des ingénieurs construisent une batterie qui se recharge en cinq minutes.
Demain, il fera beau avec des températures autour de vingt-cinq degrés.
Des vents forts et de fortes pluies sont attendus sur la côte cette nuit.
Il a neigé toute la nuit et les routes sont verglacées ce matin.
Le brouillard devrait se dissiper vers midi et l'après-midi sera sec.
Un orage arrive de l'ouest ce soir.
Cet été a été le plus chaud dans la région depuis cinquante ans.
Prends un parapluie, car des averses sont probables dans l'après-midi.
La température descendra sous zéro en montagne cette nuit.
Après une semaine de pluie, le soleil est enfin revenu dimanche.
De faibles chutes de neige sont possibles vendredi, surtout dans le nord.
Le service météo annonce une vague de chaleur pour la fin de la semaine.
Les nuages vont augmenter au cours de la journée, mais le temps restera sec.
""",
    "es": """
El equipo marcó dos goles en la segunda parte y ganó la copa.
Ella entrena en la piscina todas las mañanas antes de ir al trabajo.
El árbitro sacó tarjeta roja después de una entrada muy dura.
Nuestro club de baloncesto busca jugadores nuevos para esta temporada.
Terminó el maratón en poco menos de tres horas.
Los ciclistas subieron el empinado puerto de montaña bajo una lluvia intensa.
El portero paró un penalti en el último minuto del partido.
Las entradas para la final se agotaron en menos de una hora.
La joven corredora batió el récord nacional de los 400 metros.
Tras la lesión, el delantero se perderá los próximos cuatro partidos.
El tenista sacó muy bien y ganó sin ceder ningún set.
El equipo de voleibol de nuestro colegio llegó a la final regional.
Añade el ajo a la sartén y remueve hasta que huela dulce.
Esta panadería hace la mejor tarta de manzana de la ciudad.
Para cenar comimos pescado a la plancha con patatas y ensalada verde.
Deja reposar la masa una hora antes de hornear el pan.
El restaurante sirve una sopa de alubias picante todos los jueves.
Las fresas frescas con nata son mi postre de verano favorito.
Cuece la pasta en agua con sal durante unos diez minutos.
Compró queso, aceitunas y tomates en el mercado.
El cocinero corta las verduras en dados pequeños antes de cocinarlas.
Esta receta lleva dos huevos, una taza de leche y un poco de harina.
El domingo hicimos tortitas con miel para desayunar.
El pollo debe asarse en el horno durante una hora más o menos.
El nuevo portátil tiene un procesador más rápido y una pantalla más brillante.
Reinicia el ordenador para terminar de instalar la actualización.
La aplicación permite pagar el aparcamiento con el móvil.
Nuestra empresa trasladó todos sus archivos a un servidor en la nube el año pasado.
Unos piratas informáticos robaron miles de contraseñas de la tienda en línea.
Este reloj inteligente mide el ritmo cardíaco y cuenta los pasos.
El programador corrigió el error de la página de inicio de sesión.
El año que viene llegará una conexión a internet más rápida a las zonas rurales.
El robot de la fábrica empaqueta cajas sin ningún descanso.
Puedes conectar la impresora a la red sin cable.
La empresa lanzó una nueva versión de su sistema operativo.
Unos ingenieros están fabricando una batería que se carga en cinco minutos.
Mañana hará sol con temperaturas de unos veinticinco grados.
Esta noche se esperan vientos fuertes y lluvias intensas en la costa.
Nevó toda la noche y esta mañana las carreteras están heladas.
La niebla se disipará hacia el mediodía y la tarde será seca.
Esta tarde llega una tormenta desde el oeste.
Este verano ha sido el más caluroso de la región en cincuenta años.
Llévate un paraguas, porque es probable que haya chubascos por la tarde.
Esta noche la temperatura bajará de cero en la montaña.
Después de una semana de lluvia, el sol por fin salió el domingo.
El viernes podría nevar un poco, sobre todo en el norte.
El servicio meteorológico avisa de una ola de calor a finales de semana.
Las nubes aumentarán a lo largo del día, pero no lloverá.
""",
    "ru": """
Команда забила два гола во втором тайме и выиграла кубок.
Каждое утро перед работой она тренируется в бассейне.
Судья показал красную карточку после грубого подката.
Наш баскетбольный клуб ищет новых игроков на этот сезон.
Он пробежал марафон чуть быстрее чем за три часа.
Велосипедисты поднимались на крутой перевал под сильным дождём.
Вратарь отразил пенальти на последней минуте матча.
Билеты на финальный матч были распроданы за час.
Молодая бегунья установила национальный рекорд на дистанции 400 метров.
Из-за травмы нападающий пропустит следующие четыре игры.
Теннисист отлично подавал и выиграл, не отдав ни одного сета.
Волейбольная команда нашей школы вышла в региональный финал.
Добавьте чеснок на сковороду и помешивайте, пока не появится сладковатый аромат.
В этой пекарне пекут лучший яблочный пирог в городе.
На ужин у нас была рыба на гриле с картофелем и зелёным салатом.
Дайте тесту подняться в течение часа, прежде чем печь хлеб.
По четвергам ресторан подаёт острый фасолевый суп.
Свежая клубника со сливками — мой любимый летний десерт.
Варите макароны в подсоленной воде около десяти минут.
Она купила на рынке сыр, оливки и помидоры.
Повар нарезает овощи мелкими кубиками, прежде чем их готовить.
Для этого рецепта нужны два яйца, стакан молока и немного муки.
В воскресенье мы приготовили на завтрак блины с мёдом.
Курицу нужно запекать в духовке около часа.
У нового ноутбука более быстрый процессор и более яркий экран.
Перезагрузите компьютер, чтобы завершить установку обновления.
Приложение позволяет оплачивать парковку с телефона.
В прошлом году наша компания перенесла все файлы на облачный сервер.
Хакеры украли тысячи паролей из интернет-магазина.
Эти умные часы измеряют пульс и считают шаги.
Программист исправил ошибку на странице входа.
В следующем году в сельские районы придёт более быстрый интернет.
Робот на заводе упаковывает коробки без перерыва.
Принтер можно подключить к сети без кабеля.
Компания выпустила новую версию своей операционной системы.
Инженеры создают аккумулятор, который заряжается за пять минут.
Завтра будет солнечно, температура около двадцати пяти градусов.
Сегодня ночью на побережье ожидаются сильный ветер и ливни.
Всю ночь шёл снег, и утром дороги покрыты льдом.
К полудню туман рассеется, и днём будет сухо.
Сегодня вечером с запада надвигается гроза.
Это лето стало самым жарким в регионе за пятьдесят лет.
Возьми зонт, потому что днём вероятны ливни.
Ночью в горах температура опустится ниже нуля.
После недели дождей в воскресенье наконец выглянуло солнце.
В пятницу возможен небольшой снег, в основном на севере.
Метеослужба предупреждает о жаре в конце недели.
В течение дня облаков станет больше, но осадков не ожидается.
""",
}

# ---------------------------------------------------------------------------------------------
# Parallel grammar (English -> German, English -> French).
# ---------------------------------------------------------------------------------------------

# The lexicon tables below are laid out one entry a line on purpose.
# fmt: off
# People: en, de noun, de gender, fr noun, fr gender, which adjectives fit.
PERSONS = (
    ("man", "Mann", "m", "homme", "m", "adult"),
    ("woman", "Frau", "f", "femme", "f", "adult"),
    ("child", "Kind", "n", "enfant", "m", "kid"),
    ("boy", "Junge", "m", "garçon", "m", "kid"),
    ("girl", "Mädchen", "n", "fille", "f", "kid"),
    ("teacher", "Lehrer", "m", "professeur", "m", "adult"),
    ("doctor", "Arzt", "m", "médecin", "m", "adult"),
    ("student", "Student", "m", "étudiant", "m", "young"),
    ("cook", "Koch", "m", "cuisinier", "m", "adult"),
    ("farmer", "Bauer", "m", "fermier", "m", "adult"),
    ("neighbour", "Nachbar", "m", "voisin", "m", "adult"),
    ("grandmother", "Großmutter", "f", "grand-mère", "f", "old"),
)
PERSON_ADJS = {
    "adult": ("old", "young", "tired", "happy"),
    "kid": ("little", "tired", "happy"),
    "young": ("young", "tired", "happy"),
    "old": ("old", "tired", "happy"),
}
# en, de stem, fr (masc, fem, masc before a vowel), position in French.
SUBJ_ADJ = {
    "old": ("old", "alt", ("vieux", "vieille", "vieil"), "pre"),
    "young": ("young", "jung", ("jeune", "jeune", "jeune"), "pre"),
    "little": ("little", "klein", ("petit", "petite", "petit"), "pre"),
    "tired": ("tired", "müde", ("fatigué", "fatiguée", "fatigué"), "post"),
    "happy": ("happy", "glücklich", ("heureux", "heureuse", "heureux"), "post"),
}
POSSESSED = (  # en, de, fr, fr gender
    ("my brother", "mein Bruder", "mon frère", "m"),
    ("my sister", "meine Schwester", "ma sœur", "f"),
    ("my father", "mein Vater", "mon père", "m"),
    ("my mother", "meine Mutter", "ma mère", "f"),
    ("my friend", "mein Freund", "mon ami", "m"),
)
# en, de, fr, English person ("3sg"/"base"), English "be", German slot, French slot, fr gender, plural
PRONOUNS = (
    ("I", "ich", "je", "base", "am", "1sg", "1sg", "m", False),
    ("he", "er", "il", "3sg", "is", "3sg", "3sg", "m", False),
    ("she", "sie", "elle", "3sg", "is", "3sg", "3sg", "f", False),
    ("we", "wir", "nous", "base", "are", "pl", "1pl", "m", True),
    ("they", "sie", "ils", "base", "are", "pl", "3pl", "m", True),
)
DE_SLOT = {"3sg": 0, "1sg": 1, "pl": 2}
FR_SLOT = {"3sg": 0, "1sg": 1, "1pl": 2, "3pl": 3}

# Countable things: en, en plural, de noun, de gender, de plural, fr noun, fr gender, fr plural,
# adjectives that fit.
THING_ADJS = ("red", "green", "blue", "new", "old", "small", "big", "beautiful")
OBJECTS = {
    "book": ("book", "books", "Buch", "n", "Bücher", "livre", "m", "livres", ("red", "blue", "new", "old", "small", "big", "beautiful")),
    "letter": ("letter", "letters", "Brief", "m", "Briefe", "lettre", "f", "lettres", ("new", "old", "beautiful")),
    "newspaper": ("newspaper", "newspapers", "Zeitung", "f", "Zeitungen", "journal", "m", "journaux", ("new", "old")),
    "story": ("story", "stories", "Geschichte", "f", "Geschichten", "histoire", "f", "histoires", ("new", "old", "beautiful")),
    "postcard": ("postcard", "postcards", "Postkarte", "f", "Postkarten", "carte postale", "f", "cartes postales", ("new", "old", "beautiful")),
    "apple": ("apple", "apples", "Apfel", "m", "Äpfel", "pomme", "f", "pommes", ("red", "green", "small", "big", "beautiful")),
    "pear": ("pear", "pears", "Birne", "f", "Birnen", "poire", "f", "poires", ("green", "small", "big")),
    "orange": ("orange", "oranges", "Orange", "f", "Orangen", "orange", "f", "oranges", ("small", "big")),
    "cake": ("cake", "cakes", "Kuchen", "m", "Kuchen", "gâteau", "m", "gâteaux", ("small", "big", "beautiful")),
    "cup": ("cup", "cups", "Tasse", "f", "Tassen", "tasse", "f", "tasses", THING_ADJS),
    "bicycle": ("bicycle", "bicycles", "Fahrrad", "n", "Fahrräder", "vélo", "m", "vélos", THING_ADJS),
    "car": ("car", "cars", "Auto", "n", "Autos", "voiture", "f", "voitures", THING_ADJS),
    "ticket": ("ticket", "tickets", "Fahrkarte", "f", "Fahrkarten", "billet", "m", "billets", ("new", "old")),
    "hat": ("hat", "hats", "Hut", "m", "Hüte", "chapeau", "m", "chapeaux", THING_ADJS),
    "table": ("table", "tables", "Tisch", "m", "Tische", "table", "f", "tables", THING_ADJS),
    "lamp": ("lamp", "lamps", "Lampe", "f", "Lampen", "lampe", "f", "lampes", THING_ADJS),
    "chair": ("chair", "chairs", "Stuhl", "m", "Stühle", "chaise", "f", "chaises", THING_ADJS),
    "bag": ("bag", "bags", "Tasche", "f", "Taschen", "sac", "m", "sacs", THING_ADJS),
    "key": ("key", "keys", "Schlüssel", "m", "Schlüssel", "clé", "f", "clés", ("new", "old", "small", "big")),
    "door": ("door", "doors", "Tür", "f", "Türen", "porte", "f", "portes", ("red", "green", "blue", "old", "small", "big")),
    "window": ("window", "windows", "Fenster", "n", "Fenster", "fenêtre", "f", "fenêtres", ("old", "small", "big")),
    "box": ("box", "boxes", "Kiste", "f", "Kisten", "boîte", "f", "boîtes", THING_ADJS),
    "dog": ("dog", "dogs", "Hund", "m", "Hunde", "chien", "m", "chiens", ("old", "small", "big", "beautiful")),
    "cat": ("cat", "cats", "Katze", "f", "Katzen", "chat", "m", "chats", ("old", "small", "big", "beautiful")),
    "bird": ("bird", "birds", "Vogel", "m", "Vögel", "oiseau", "m", "oiseaux", ("old", "small", "big", "beautiful")),
    "horse": ("horse", "horses", "Pferd", "n", "Pferde", "cheval", "m", "chevaux", ("old", "small", "big", "beautiful")),
    "house": ("house", "houses", "Haus", "n", "Häuser", "maison", "f", "maisons", ("red", "new", "old", "small", "big", "beautiful")),
    "tree": ("tree", "trees", "Baum", "m", "Bäume", "arbre", "m", "arbres", ("old", "small", "big", "beautiful")),
    "flower": ("flower", "flowers", "Blume", "f", "Blumen", "fleur", "f", "fleurs", ("red", "blue", "small", "beautiful")),
}
# en, de stem, fr (masc, fem, masc before a vowel), position in French.
OBJ_ADJ = {
    "red": ("red", "rot", ("rouge", "rouge", "rouge"), "post"),
    "green": ("green", "grün", ("vert", "verte", "vert"), "post"),
    "blue": ("blue", "blau", ("bleu", "bleue", "bleu"), "post"),
    "new": ("new", "neu", ("nouveau", "nouvelle", "nouvel"), "pre"),
    "old": ("old", "alt", ("vieux", "vieille", "vieil"), "pre"),
    "small": ("small", "klein", ("petit", "petite", "petit"), "pre"),
    "big": ("big", "groß", ("grand", "grande", "grand"), "pre"),
    "beautiful": ("beautiful", "schön", ("beau", "belle", "bel"), "pre"),
    "hot": ("hot", "heiß", ("chaud", "chaude", "chaud"), "post"),
    "cold": ("cold", "kalt", ("froid", "froide", "froid"), "post"),
}
MASS = {  # en, de noun, de gender, fr noun, fr gender
    "coffee": ("coffee", "Kaffee", "m", "café", "m"),
    "tea": ("tea", "Tee", "m", "thé", "m"),
    "water": ("water", "Wasser", "n", "eau", "f"),
    "milk": ("milk", "Milch", "f", "lait", "m"),
    "juice": ("juice", "Saft", "m", "jus", "m"),
}
PLACES = {
    "garden": ("in the garden", "im Garten", "dans le jardin"),
    "kitchen": ("in the kitchen", "in der Küche", "dans la cuisine"),
    "park": ("in the park", "im Park", "dans le parc"),
    "school": ("at school", "in der Schule", "à l'école"),
    "home": ("at home", "zu Hause", "à la maison"),
    "library": ("in the library", "in der Bibliothek", "à la bibliothèque"),
    "market": ("at the market", "auf dem Markt", "au marché"),
    "office": ("in the office", "im Büro", "au bureau"),
    "station": ("at the station", "am Bahnhof", "à la gare"),
    "street": ("in the street", "auf der Straße", "dans la rue"),
    "shop": ("in the shop", "im Laden", "au magasin"),
    "city": ("in the city", "in der Stadt", "en ville"),
}
TIMES = (  # en, de, fr, may open the sentence
    ("today", "heute", "aujourd'hui", True),
    ("now", "jetzt", "maintenant", False),
    ("every morning", "jeden Morgen", "chaque matin", True),
    ("every day", "jeden Tag", "chaque jour", True),
    ("in the evening", "am Abend", "le soir", True),
    ("on Sundays", "sonntags", "le dimanche", True),
)
# verb: English (base, 3sg), German (3sg, 1sg, plural), French (3sg, 1sg, 1pl, 3pl),
# objects ("mass" for drink), places that fit.
VERBS = {
    "read": (("read", "reads"), ("liest", "lese", "lesen"), ("lit", "lis", "lisons", "lisent"),
             ("book", "letter", "newspaper", "story"),
             ("garden", "kitchen", "park", "library", "home", "office", "station")),
    "write": (("write", "writes"), ("schreibt", "schreibe", "schreiben"), ("écrit", "écris", "écrivons", "écrivent"),
              ("letter", "story", "postcard"),
              ("office", "home", "library", "kitchen", "school")),
    "buy": (("buy", "buys"), ("kauft", "kaufe", "kaufen"), ("achète", "achète", "achetons", "achètent"),
            ("book", "newspaper", "apple", "pear", "cake", "cup", "bicycle", "car", "ticket", "hat", "table", "lamp", "chair", "bag", "flower"),
            ("market", "shop", "city")),
    "see": (("see", "sees"), ("sieht", "sehe", "sehen"), ("voit", "vois", "voyons", "voient"),
            ("dog", "cat", "bird", "horse", "car", "house", "tree", "flower"),
            ("park", "garden", "street", "city", "station")),
    "find": (("find", "finds"), ("findet", "finde", "finden"), ("trouve", "trouve", "trouvons", "trouvent"),
             ("key", "book", "bag", "ticket", "hat", "cat", "dog", "letter"),
             ("garden", "kitchen", "office", "park", "street", "station", "home")),
    "open": (("open", "opens"), ("öffnet", "öffne", "öffnen"), ("ouvre", "ouvre", "ouvrons", "ouvrent"),
             ("door", "window", "box", "letter", "bag", "book"),
             ("kitchen", "office", "home", "school")),
    "wash": (("wash", "washes"), ("wäscht", "wasche", "waschen"), ("lave", "lave", "lavons", "lavent"),
             ("car", "cup", "dog", "window", "bicycle", "table"),
             ("garden", "kitchen", "home", "street")),
    "eat": (("eat", "eats"), ("isst", "esse", "essen"), ("mange", "mange", "mangeons", "mangent"),
            ("apple", "pear", "orange", "cake"),
            ("kitchen", "garden", "park", "school", "home", "office")),
    "draw": (("draw", "draws"), ("zeichnet", "zeichne", "zeichnen"), ("dessine", "dessine", "dessinons", "dessinent"),
             ("house", "tree", "horse", "cat", "dog", "bird", "flower", "car"),
             ("school", "home", "park", "garden")),
    "drink": (("drink", "drinks"), ("trinkt", "trinke", "trinken"), ("boit", "bois", "buvons", "boivent"),
              "mass",
              ("kitchen", "office", "home", "garden", "station")),
}
DESTINATIONS = (
    ("to the station", "zum Bahnhof", "à la gare"),
    ("to school", "zur Schule", "à l'école"),
    ("to the market", "zum Markt", "au marché"),
    ("to the park", "in den Park", "au parc"),
    ("to the office", "ins Büro", "au bureau"),
    ("to the library", "in die Bibliothek", "à la bibliothèque"),
    ("to the museum", "ins Museum", "au musée"),
    ("to the beach", "an den Strand", "à la plage"),
    ("to the city", "in die Stadt", "en ville"),
)
TRANSPORT = (  # en, de, fr, German verb of motion
    ("by bus", "mit dem Bus", "en bus", "fahren"),
    ("by train", "mit dem Zug", "en train", "fahren"),
    ("by bike", "mit dem Fahrrad", "à vélo", "fahren"),
    ("by car", "mit dem Auto", "en voiture", "fahren"),
    ("on foot", "zu Fuß", "à pied", "gehen"),
)
DE_MOTION = {"fahren": ("fährt", "fahre", "fahren"), "gehen": ("geht", "gehe", "gehen")}
PRED_ADJ = {  # en, de, fr (m, f, m pl, f pl)
    "tired": ("tired", "müde", ("fatigué", "fatiguée", "fatigués", "fatiguées")),
    "happy": ("happy", "glücklich", ("heureux", "heureuse", "heureux", "heureuses")),
    "sick": ("sick", "krank", ("malade", "malade", "malades", "malades")),
    "busy": ("busy", "beschäftigt", ("occupé", "occupée", "occupés", "occupées")),
    "sad": ("sad", "traurig", ("triste", "triste", "tristes", "tristes")),
    "ready": ("ready", "bereit", ("prêt", "prête", "prêts", "prêtes")),
}
NUMBERS = (("two", "zwei", "deux"), ("three", "drei", "trois"), ("four", "vier", "quatre"),
           ("five", "fünf", "cinq"), ("six", "sechs", "six"))
HAVE_OBJECTS = ("dog", "cat", "horse", "bird", "book", "bicycle", "car", "key", "bag", "hat", "cup", "lamp", "chair")
ANIMALS = {"dog", "cat", "horse", "bird"}
# fmt: on

_VOWEL = "aeiouyhéèêàâîôûœAEIOUYHÉÈÊÀÂÎÔÛŒ"


def _de_adj(stem: str, ending: str) -> str:
    return stem + (ending[1:] if stem.endswith("e") else ending)


def de_np(case: str, det: str, noun: str, gender: str, adj: str | None = None) -> str:
    """German singular noun phrase. det: def, indef, neg (kein), poss (mein), none."""
    base = {
        "nom": {"m": "ein", "f": "eine", "n": "ein"},
        "acc": {"m": "einen", "f": "eine", "n": "ein"},
    }[case][gender]
    article = {
        "def": {
            "nom": {"m": "der", "f": "die", "n": "das"},
            "acc": {"m": "den", "f": "die", "n": "das"},
        }[case][gender],
        "indef": base,
        "neg": "k" + base,
        "poss": "m" + base,
        "none": "",
    }[det]
    words = [article] if article else []
    if adj:
        if det == "def":
            ending = "en" if (case == "acc" and gender == "m") else "e"
        else:  # mixed and strong declension agree in the singular nominative/accusative
            ending = {"m": "er" if case == "nom" else "en", "f": "e", "n": "es"}[gender]
        words.append(_de_adj(adj, ending))
    words.append(noun)
    return " ".join(words)


def fr_np(det: str, noun: str, gender: str, adj: tuple | None = None) -> str:
    """French singular noun phrase. det: def, indef, neg (de), part (du), poss (mon/ma).
    Elision and contraction happen in fr_fix()."""
    pre = post = ""
    if adj:
        forms, pos = adj
        if gender == "f":
            form = forms[1]
        else:
            form = forms[2] if (pos == "pre" and noun[0] in _VOWEL) else forms[0]
        pre, post = (form, "") if pos == "pre" else ("", form)
    first = pre or noun
    article = {
        "def": "le" if gender == "m" else "la",
        "indef": "un" if gender == "m" else "une",
        "neg": "de",
        "part": "de le" if gender == "m" else "de la",
        "poss": "mon" if (gender == "m" or first[0] in _VOWEL) else "ma",
    }[det]
    return " ".join(w for w in (article, pre, noun, post) if w)


def fr_fix(s: str) -> str:
    s = re.sub(
        r"\b(je|Je|ne|le|Le|la|La|de|De|que)\s+(?=[" + _VOWEL + "])",
        lambda m: m.group(1)[:-1] + "'",
        s,
    )
    s = re.sub(r"\bde le ", "du ", s)
    s = re.sub(r"\bà le ", "au ", s)
    s = re.sub(r"\bde les ", "des ", s)
    s = re.sub(r"\bà les ", "aux ", s)
    return s[0].upper() + s[1:]


def en_fix(s: str) -> str:
    s = re.sub(r"\ba (?=[aeiouAEIOU])", "an ", s)
    return s[0].upper() + s[1:]


def de_fix(s: str) -> str:
    return s[0].upper() + s[1:]


def _subject(rng: random.Random, allow_adj: tuple = ("old", "young", "little", "tired", "happy")):
    r = rng.random()
    if r < 0.6:
        en, de, dg, fr, fg, kind = rng.choice(PERSONS)
        adjs = [a for a in PERSON_ADJS[kind] if a in allow_adj]
        adj = rng.choice(adjs) if adjs and rng.random() < 0.35 else None
        if adj:
            a_en, a_de, a_fr, a_pos = SUBJ_ADJ[adj]
            en_s = f"the {a_en} {en}"
            de_s = de_np("nom", "def", de, dg, a_de)
            fr_s = fr_np("def", fr, fg, (a_fr, a_pos))
        else:
            en_s, de_s, fr_s = f"the {en}", de_np("nom", "def", de, dg), fr_np("def", fr, fg)
        return dict(
            en=en_s,
            de=de_s,
            fr=fr_s,
            en_p="3sg",
            be="is",
            de_p="3sg",
            fr_p="3sg",
            g=fg,
            pl=False,
            adj=adj,
        )
    if r < 0.75:
        en, de, fr, fg = rng.choice(POSSESSED)
        return dict(
            en=en,
            de=de,
            fr=fr,
            en_p="3sg",
            be="is",
            de_p="3sg",
            fr_p="3sg",
            g=fg,
            pl=False,
            adj=None,
        )
    en, de, fr, en_p, be, de_p, fr_p, g, pl = rng.choice(PRONOUNS)
    return dict(en=en, de=de, fr=fr, en_p=en_p, be=be, de_p=de_p, fr_p=fr_p, g=g, pl=pl, adj=None)


def _time(rng: random.Random, p: float = 0.45):
    if rng.random() >= p:
        return None, False
    t = rng.choice(TIMES)
    return t, bool(t[3] and rng.random() < 0.5)


def _assemble(subj, time, front, en_rest, de_verb, de_rest, fr_rest):
    """en_rest: words after the subject; de_rest: words after verb (and time); fr_rest likewise."""
    if time is None:
        en = [subj["en"], *en_rest]
        de = [subj["de"], de_verb, *de_rest]
        fr = [subj["fr"], *fr_rest]
    elif front:
        en = [time[0], subj["en"], *en_rest]
        de = [time[1], de_verb, subj["de"], *de_rest]
        fr = [time[2] + ",", subj["fr"], *fr_rest]
    else:
        en = [subj["en"], *en_rest, time[0]]
        de = [subj["de"], de_verb, time[1], *de_rest]
        fr = [subj["fr"], *fr_rest, time[2]]
    return en, de, fr


def _s_transitive(rng: random.Random):
    v_en, v_de, v_fr, objs, places = VERBS[rng.choice(list(VERBS))]
    subj = _subject(rng)
    neg = rng.random() < 0.15
    place = PLACES[rng.choice(places)] if rng.random() < 0.6 else None
    time, front = _time(rng)
    if objs == "mass":
        en_n, de_n, de_g, fr_n, fr_g = MASS[rng.choice(list(MASS))]
        adj = OBJ_ADJ[rng.choice(("hot", "cold"))] if rng.random() < 0.4 else None
        en_o = f"{adj[0]} {en_n}" if adj else en_n
        de_o = de_np("acc", "neg" if neg else "none", de_n, de_g, adj[1] if adj else None)
        fr_o = fr_np("neg" if neg else "part", fr_n, fr_g, (adj[2], adj[3]) if adj else None)
    else:
        en_n, _, de_n, de_g, _, fr_n, fr_g, _, adjs = OBJECTS[rng.choice(objs)]
        adj = OBJ_ADJ[rng.choice(adjs)] if rng.random() < 0.4 else None
        en_o = f"a {adj[0]} {en_n}" if adj else f"a {en_n}"
        de_o = de_np("acc", "neg" if neg else "indef", de_n, de_g, adj[1] if adj else None)
        fr_o = fr_np("neg" if neg else "indef", fr_n, fr_g, (adj[2], adj[3]) if adj else None)
    third = subj["en_p"] == "3sg"
    if neg:
        en_v = ("does not " if third else "do not ") + v_en[0]
    else:
        en_v = v_en[1] if third else v_en[0]
    de_v = v_de[DE_SLOT[subj["de_p"]]]
    fr_v = v_fr[FR_SLOT[subj["fr_p"]]]
    fr_v = f"ne {fr_v} pas" if neg else fr_v
    p = [place] if place else []
    return _assemble(
        subj,
        time,
        front,
        [en_v, en_o, *[x[0] for x in p]],
        de_v,
        [de_o, *[x[1] for x in p]],
        [fr_v, fr_o, *[x[2] for x in p]],
    )


def _s_go(rng: random.Random):
    subj = _subject(rng)
    dest = rng.choice(DESTINATIONS)
    tr = rng.choice(TRANSPORT)
    time, front = _time(rng, 0.5)
    third = subj["en_p"] == "3sg"
    if tr[3] == "gehen":
        en_rest = ["walks" if third else "walk", dest[0]]
    else:
        en_rest = ["goes" if third else "go", dest[0], tr[0]]
    de_v = DE_MOTION[tr[3]][DE_SLOT[subj["de_p"]]]
    fr_v = ("va", "vais", "allons", "vont")[FR_SLOT[subj["fr_p"]]]
    return _assemble(subj, time, front, en_rest, de_v, [tr[1], dest[1]], [fr_v, dest[2], tr[2]])


def _s_be(rng: random.Random):
    subj = _subject(rng, allow_adj=("old", "young", "little"))
    a_en, a_de, a_fr = PRED_ADJ[rng.choice(list(PRED_ADJ))]
    very = rng.random() < 0.25
    time, front = _time(rng, 0.5)
    fr_form = a_fr[(2 if subj["pl"] else 0) + (1 if subj["g"] == "f" else 0)]
    de_v = ("ist", "bin", "sind")[DE_SLOT[subj["de_p"]]]
    fr_v = ("est", "suis", "sommes", "sont")[FR_SLOT[subj["fr_p"]]]
    return _assemble(
        subj,
        time,
        front,
        [subj["be"], *(["very"] if very else []), a_en],
        de_v,
        [*(["sehr"] if very else []), a_de],
        [fr_v, *(["très"] if very else []), fr_form],
    )


def _s_have(rng: random.Random):
    subj = _subject(rng)
    n_en, n_de, n_fr = rng.choice(NUMBERS)
    key = rng.choice(HAVE_OBJECTS)
    _, en_pl, _, _, de_pl, _, _, fr_pl, _ = OBJECTS[key]
    place = (
        PLACES[rng.choice(("home", "garden"))] if key in ANIMALS and rng.random() < 0.5 else None
    )
    p = [place] if place else []
    third = subj["en_p"] == "3sg"
    de_v = ("hat", "habe", "haben")[DE_SLOT[subj["de_p"]]]
    fr_v = ("a", "ai", "avons", "ont")[FR_SLOT[subj["fr_p"]]]
    return _assemble(
        subj,
        None,
        False,
        ["has" if third else "have", n_en, en_pl, *[x[0] for x in p]],
        de_v,
        [n_de, de_pl, *[x[1] for x in p]],
        [fr_v, n_fr, fr_pl, *[x[2] for x in p]],
    )


def _s_like(rng: random.Random):
    subj = _subject(rng)
    en_n, _, de_n, de_g, _, fr_n, fr_g, _, adjs = OBJECTS[rng.choice(list(OBJECTS))]
    adj = OBJ_ADJ[rng.choice(adjs)] if rng.random() < 0.6 else None
    neg = rng.random() < 0.25
    third = subj["en_p"] == "3sg"
    en_o = f"the {adj[0]} {en_n}" if adj else f"the {en_n}"
    de_o = de_np("acc", "def", de_n, de_g, adj[1] if adj else None)
    fr_o = fr_np("def", fr_n, fr_g, (adj[2], adj[3]) if adj else None)
    if neg:
        en_v = "does not like" if third else "do not like"
    else:
        en_v = "likes" if third else "like"
    de_v = ("mag", "mag", "mögen")[DE_SLOT[subj["de_p"]]]
    fr_v = ("aime", "aime", "aimons", "aiment")[FR_SLOT[subj["fr_p"]]]
    return _assemble(
        subj,
        None,
        False,
        [en_v, en_o],
        de_v,
        [de_o, *(["nicht"] if neg else [])],
        [f"ne {fr_v} pas" if neg else fr_v, fr_o],
    )


def _s_where(rng: random.Random):
    en_n, _, de_n, de_g, _, fr_n, fr_g, _, adjs = OBJECTS[rng.choice(list(OBJECTS))]
    adj = OBJ_ADJ[rng.choice(adjs)]
    det = rng.choice(("def", "poss"))
    en = ["where", "is", "the" if det == "def" else "my", adj[0], en_n]
    de = ["wo", "ist", de_np("nom", det, de_n, de_g, adj[1])]
    fr = ["où", "est", fr_np(det, fr_n, fr_g, (adj[2], adj[3]))]
    return en, de, fr, "?"


TEMPLATES = (
    (_s_transitive, 0.50),
    (_s_go, 0.15),
    (_s_be, 0.12),
    (_s_have, 0.10),
    (_s_like, 0.08),
    (_s_where, 0.05),
)


def make_parallel(seed: int = SEED, n_de: int = 720, n_fr: int = 420) -> list[dict]:
    rng = random.Random(seed + 3)
    funcs, weights = zip(*TEMPLATES, strict=True)
    triples: list[tuple[str, str, str]] = []
    seen_en: set[str] = set()
    seen_de: set[str] = set()
    seen_fr: set[str] = set()
    tries = 0
    while len(triples) < n_de + n_fr:
        tries += 1
        if tries > 200_000:
            raise RuntimeError("grammar too small for the requested number of pairs")
        out = rng.choices(funcs, weights)[0](rng)
        end = "."
        if len(out) == 4:
            en, de, fr, end = out
        else:
            en, de, fr = out
        en_s = en_fix(" ".join(en) + end)
        de_s = de_fix(" ".join(de) + end)
        fr_s = fr_fix(" ".join(fr) + end)
        if not 5 <= len(en_s.split()) <= 12:
            continue
        if en_s in seen_en or de_s in seen_de or fr_s in seen_fr:
            continue
        seen_en.add(en_s)
        seen_de.add(de_s)
        seen_fr.add(fr_s)
        triples.append((en_s, de_s, fr_s))
    rows = []
    for i, (en_s, de_s, _) in enumerate(triples[:n_de]):
        rows.append(
            dict(
                id=f"en-de-{i + 1:05d}", src_lang="en", tgt_lang="de", src_text=en_s, tgt_text=de_s
            )
        )
    for i, (en_s, _, fr_s) in enumerate(triples[n_de:]):
        rows.append(
            dict(
                id=f"en-fr-{i + 1:05d}", src_lang="en", tgt_lang="fr", src_text=en_s, tgt_text=fr_s
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------


def _lines(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def load_pools() -> dict[str, dict[str, list[str]]]:
    pools = {}
    for lang, block in POOLS.items():
        lines = _lines(block)
        assert len(lines) == len(TOPICS) * PER_TOPIC, (lang, len(lines))
        pools[lang] = {t: lines[i * PER_TOPIC : (i + 1) * PER_TOPIC] for i, t in enumerate(TOPICS)}
    return pools


def _join(lang: str, sentences: list[str]) -> str:
    return ("" if lang in NO_SPACE_LANGS else " ").join(sentences)


def _paragraphs(rng: random.Random, lang: str, sentences: list[str]) -> list[str]:
    paras, i = [], 0
    while i < len(sentences):
        k = rng.randint(1, 3)
        paras.append(_join(lang, sentences[i : i + k]))
        i += k
    return paras


def _pick_sentences(rng, pools, lang, topic, n_main, n_other, exclude=()):
    main = [s for s in pools[lang][topic] if s not in exclude]
    others = [s for t in TOPICS if t != topic for s in pools[lang][t] if s not in exclude]
    return rng.sample(main, min(n_main, len(main))) + rng.sample(others, n_other)


def compose_doc(rng: random.Random, pools, lang: str, topic: str) -> tuple[str, list[str]]:
    """3-8 sentences, mostly on one topic, paragraphs separated by newlines, 200-1500 chars."""
    k = rng.randint(3, 8)
    n_main = min(k, rng.randint(2, 4))
    sentences = _pick_sentences(rng, pools, lang, topic, n_main, k - n_main)
    while len(_join(lang, sentences)) < 200:
        sentences += _pick_sentences(rng, pools, lang, topic, 0, 1, exclude=sentences)
    text = "\n".join(_paragraphs(rng, lang, sentences))
    assert 200 <= len(text) <= 1500, (lang, len(text))
    return text, sentences


def _url(lang: str, *parts: object) -> str:
    return f"https://{lang}.example.org/" + "/".join(str(p) for p in parts)


NONSENSE_SYLLABLES = (
    "lo ra ven tis qua dor mel ip sa tum fer ni co bal us tre mo gan pel ex vi sor dul cam "
    "ne fra lum or pi tal ser um ge bri nox ha ul ter"
).split()


def _nonsense(rng: random.Random, n_words: int) -> str:
    words, sentence = [], []
    for _ in range(n_words):
        w = "".join(rng.choice(NONSENSE_SYLLABLES) for _ in range(rng.randint(1, 4)))
        sentence.append(w)
        if len(sentence) >= rng.randint(6, 14):
            words.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        words.append(" ".join(sentence).capitalize() + ".")
    return " ".join(words)


CODE_SNIPPET = """\
import os
from collections import defaultdict

def load_config(path):
    cfg = defaultdict(dict)
    with open(path) as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            section, _, name = key.strip().partition(".")
            cfg[section][name] = value.strip()
    return cfg

if __name__ == "__main__":
    cfg = load_config(os.environ.get("APP_CONFIG", "app.ini"))
    for section, values in sorted(cfg.items()):
        print(f"[{section}]", len(values))
// TODO: remove once the new loader is merged
function retry(fn, n) { for (let i = 0; i < n; i++) { try { return fn(); } catch (e) {} } }
"""


def make_junk(rng: random.Random, pools) -> list[tuple[str, str, str]]:
    """(id suffix, text, url lang). Everything here should be dropped except 014-allcaps."""
    junk = [
        ("001-short", "ok", "en"),
        ("002-short", "Click here", "en"),
        ("003-short", "Read more »", "en"),
        (
            "004-repeat",
            "\n".join(["Subscribe to our newsletter and never miss a deal!"] * 30),
            "en",
        ),
        ("005-repeat", "\n".join(["Лучшие цены только сегодня — жмите сюда!"] * 30), "ru"),
        (
            "006-symbols",
            "\n".join(
                " ".join(
                    rng.choice(
                        [
                            "####",
                            "$$$",
                            "%%%",
                            "&&&",
                            "***",
                            "@@@",
                            "!!!",
                            "^^^",
                            "~~~",
                            "+++",
                            "===",
                            "|||",
                            "<<<",
                            ">>>",
                            "///",
                        ]
                    )
                    for _ in range(12)
                )
                for _ in range(10)
            ),
            "en",
        ),
        (
            "007-symbols",
            "\n".join(
                " ".join(
                    rng.choice(
                        ["★☆★", "♥♥♥", "✓✓", "►►", "◄◄", "■■■", "□□", "●●●", "○○", "♦♦", "→→", "※※"]
                    )
                    for _ in range(10)
                )
                for _ in range(8)
            ),
            "ja",
        ),
        ("008-nav", "\n".join(["Home | About | Contact | Login"] * 25), "en"),
        (
            "009-nav",
            "\n".join(
                [
                    "Startseite | Über uns | Kontakt | Anmelden | Warenkorb (0)",
                    "Impressum | Datenschutz | AGB | Cookie-Einstellungen",
                ]
                * 12
            ),
            "de",
        ),
        ("010-lorem", _nonsense(rng, 140), "en"),
        ("011-lorem", "\n".join(_nonsense(rng, 45) for _ in range(4)), "fr"),
        (
            "012-numbers",
            "\n".join(" ".join(str(rng.randint(0, 99999)) for _ in range(12)) for _ in range(15)),
            "en",
        ),
        ("013-code", CODE_SNIPPET, "en"),
        (
            "014-allcaps",
            "\n".join(s.upper() for s in pools["en"]["sport"][:3] + pools["en"]["weather"][2:5]),
            "en",
        ),
        (
            "015-cookie",
            "We use cookies to improve your experience on our website. By continuing to browse, "
            "you agree to our use of cookies.\nAccept all | Reject all | Settings",
            "en",
        ),
        ("016-whitespace", "   \n\t\n    \n", "en"),
        (
            "017-urls",
            "\n".join(
                f"https://shop.example.com/item?id={rng.randint(1000, 9999)}&ref=feed&page={i}"
                for i in range(25)
            ),
            "en",
        ),
        (
            "018-charrepeat",
            "aaaaaaaaaaaaaaaaaaaaaaaa!!!!!!!!!!!! " * 6 + "hahahahahahahahahahaha",
            "en",
        ),
        (
            "019-mojibake",
            "\n".join(
                s.encode("utf-8").decode("cp1252", errors="replace")
                for s in pools["de"]["cooking"][:3] + pools["fr"]["travel"][:2]
            ),
            "de",
        ),
        (
            "020-keywords",
            " ".join(
                rng.choice(
                    [
                        "cheap flights",
                        "best price",
                        "cheap hotels",
                        "buy now",
                        "discount",
                        "free shipping",
                        "top deals",
                        "cheap tickets",
                    ]
                )
                for _ in range(60)
            ),
            "en",
        ),
    ]
    return junk


def _overlap(a: list[str], b: list[str]) -> float:
    return len(set(a) & set(b)) / len(set(a) | set(b))


def _is_word(w: str) -> bool:
    return len(w) >= 4 and all(unicodedata.category(c)[0] in "LM" for c in w)


def _spaced(rng: random.Random, text: str) -> str:
    """Same text, different whitespace: doubled spaces, trailing spaces, blank lines."""
    out = []
    for line in text.split("\n"):
        words = line.split(" ")
        line = "".join(w + (" " * rng.choice((1, 1, 2, 3))) for w in words).rstrip(" ")
        out.append("  " + line + "   ")
    return "\n\n".join(out) + "\n"


def make_docs(seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    pools = load_pools()
    per_lang = 27
    by_lang: dict[str, list[dict]] = {}
    for lang in DOC_LANGS:
        docs = []
        topics = [TOPICS[i % len(TOPICS)] for i in range(per_lang)]
        rng.shuffle(topics)
        for i, topic in enumerate(topics):
            # Clean documents must not be near-duplicates of each other by accident: two
            # documents of a language share at most a third of their sentences.
            for _ in range(1000):
                text, sentences = compose_doc(rng, pools, lang, topic)
                if all(_overlap(sentences, d["_sentences"]) <= 1 / 3 for d in docs):
                    break
            else:
                raise RuntimeError(f"could not compose distinct documents for {lang}")
            doc = {
                "id": f"doc-{lang}-{i + 1:03d}",
                "text": text,
                "url": _url(lang, topic, f"{i + 1:03d}.html"),
            }
            if i % 3 == 0:
                doc["lang"] = lang
            docs.append(doc)
            doc["_sentences"] = sentences
        by_lang[lang] = docs
    # Interleave languages, as a crawl would.
    clean = [by_lang[lang][i] for i in range(per_lang) for lang in DOC_LANGS]

    # Exact duplicates (some only after NFC / whitespace normalization).
    dups = []
    variants = ["exact"] * 8 + ["nfd"] * 5 + ["spaces"] * 4 + ["crlf"] * 2 + ["nfd-spaces"]
    nfd_ok = [d for d in clean if unicodedata.normalize("NFD", d["text"]) != d["text"]]
    chosen: set[str] = set()
    for i, variant in enumerate(variants):
        source_pool = nfd_ok if "nfd" in variant else clean
        src = rng.choice([d for d in source_pool if d["id"] not in chosen])
        chosen.add(src["id"])
        text = src["text"]
        if "nfd" in variant:
            text = unicodedata.normalize("NFD", text)
        if "spaces" in variant:
            text = _spaced(rng, text)
        if variant == "crlf":
            text = text.replace("\n", "\r\n") + "\r\n"
        lang = src["url"].split("//")[1].split(".")[0]
        dups.append(
            {
                "id": f"dup-{i + 1:03d}-{variant}",
                "text": text,
                "url": _url(lang, "mirror", f"{i + 1:03d}", src["url"].rsplit("/", 1)[1]),
            }
        )

    # Near duplicates: 1-3 words swapped, or one sentence appended, on longer documents.
    near = []
    long_docs = [d for d in clean if len(d["_sentences"]) >= 5 and d["id"] not in chosen]
    for i, src in enumerate(rng.sample(long_docs, 20)):
        lang = src["url"].split("//")[1].split(".")[0]
        text = src["text"]
        if lang in NO_SPACE_LANGS or i % 2 == 1:
            kind = "append"
            extra = _pick_sentences(rng, pools, lang, TOPICS[0], 0, 1, exclude=src["_sentences"])
            text = text + "\n" + extra[0]
        else:
            kind = "words"
            vocab = sorted(
                {w for t in TOPICS for s in pools[lang][t] for w in s.split() if _is_word(w)}
            )
            tokens = text.split(" ")
            positions = [j for j, w in enumerate(tokens) if _is_word(w)]
            for j in rng.sample(positions, rng.randint(1, 3)):
                tokens[j] = rng.choice([w for w in vocab if w != tokens[j]])
            text = " ".join(tokens)
        near.append(
            {
                "id": f"near-{i + 1:03d}-{kind}",
                "text": text,
                "url": _url(lang, "archive", f"{i + 1:03d}", src["url"].rsplit("/", 1)[1]),
            }
        )

    # Mixed-language pages: alternating paragraphs, each language 40-60% of the characters.
    mixed = []
    pairs = [
        ("en", "de"),
        ("ru", "en"),
        ("zh", "en"),
        ("fr", "es"),
        ("ja", "en"),
        ("ar", "en"),
        ("hi", "en"),
        ("de", "fr"),
        ("el", "en"),
        ("ko", "en"),
        ("uk", "ru"),
        ("pt", "es"),
        ("es", "en"),
        ("en", "fr"),
        ("de", "ru"),
    ]
    for i, (a, b) in enumerate(pairs):
        # Same topic, but never a sentence next to its own translation: the two languages get
        # disjoint sentence slots (pools are aligned line by line).
        t = rng.randrange(len(TOPICS))
        slots = rng.sample(range(PER_TOPIC), PER_TOPIC)
        rest = rng.sample([j for j in range(len(TOPICS) * PER_TOPIC) if j // PER_TOPIC != t], 40)
        flat = {x: [s for tp in TOPICS for s in pools[x][tp]] for x in (a, b)}
        left = {
            a: [flat[a][t * PER_TOPIC + j] for j in slots[:3]] + [flat[a][j] for j in rest[:20]],
            b: [flat[b][t * PER_TOPIC + j] for j in slots[3:]] + [flat[b][j] for j in rest[20:]],
        }
        paras: list[tuple[str, str]] = []
        chars = {a: 0, b: 0}
        while True:
            lang = a if chars[a] <= chars[b] else b
            para = _join(lang, [left[lang].pop(0) for _ in range(rng.randint(1, 2))])
            paras.append((lang, para))
            chars[lang] += len(para)
            total = chars[a] + chars[b]
            if total >= 600 and 0.42 <= chars[a] / total <= 0.58 and len(paras) >= 4:
                break
        mixed.append(
            {
                "id": f"mixed-{i + 1:03d}-{a}-{b}",
                "text": "\n".join(p for _, p in paras),
                "url": _url(a, "mixed", f"{i + 1:03d}.html"),
            }
        )

    junk = [
        {"id": f"junk-{suffix}", "text": text, "url": _url(lang, "misc", f"{suffix}.html")}
        for suffix, text, lang in make_junk(rng, pools)
    ]

    for d in clean:
        del d["_sentences"]
    return clean + dups + near + mixed + junk


# ---------------------------------------------------------------------------------------------
# Labeled topic set
# ---------------------------------------------------------------------------------------------


def make_labeled() -> list[dict]:
    rows = []
    for lang, block in LABELED.items():
        lines = _lines(block)
        assert len(lines) == 12 * len(LABELS), (lang, len(lines))
        for i in range(12):
            for k, label in enumerate(LABELS):
                rows.append({"text": lines[k * 12 + i], "label": label, "lang": lang})
    return rows


# ---------------------------------------------------------------------------------------------
# WARC
# ---------------------------------------------------------------------------------------------

WARC_START = datetime(2024, 5, 14, 9, 30, 0)
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
USER_AGENT = "crossling-demo-crawler/0.1 (+https://example.org/crossling-bot)"


def _record_id(name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'crossling-demo:' + name)}>"


def _tiny_png(width: int = 16, height: int = 16) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 16, y * 16, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def make_html(rng: random.Random, pools, lang: str, topic_i: int, meta: str | None) -> str:
    """A page with a head, a nav menu, one <article> of several paragraphs, an aside, a footer."""
    topic = TOPICS[topic_i]
    title = TOPIC_NAMES[lang].split("|")[topic_i]
    nav = NAV[lang].split("|")
    k = rng.randint(5, 8)
    sentences = _pick_sentences(rng, pools, lang, topic, min(k, 4), k - min(k, 4))
    paras = [_join(lang, sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    other = [TOPIC_NAMES[lang].split("|")[j] for j in rng.sample(range(len(TOPICS)), 3)]
    esc = html.escape
    dir_attr = ' dir="rtl"' if lang == "ar" else ""
    head_meta = f"\n{meta}" if meta else ""
    nav_items = "\n".join(
        f'      <li><a href="{href}">{esc(label)}</a></li>'
        for href, label in zip(("/", "/news/", "/about/", "/contact/"), nav, strict=True)
    )
    section_items = "\n".join(
        f'      <li><a href="/{TOPICS[TOPIC_NAMES[lang].split("|").index(t)]}/">{esc(t)}</a></li>'
        for t in other
    )
    body = "\n".join(f"    <p>{esc(p)}</p>" for p in paras)
    return f"""<!DOCTYPE html>
<html lang="{lang}"{dir_attr}>
<head>{head_meta}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} | {lang}.example.org</title>
<link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{lang}.example.org</a>
  <nav class="main-nav">
    <ul>
{nav_items}
    </ul>
  </nav>
</header>
<main>
  <article>
    <h1>{esc(title)}</h1>
    <p class="byline"><time datetime="2024-05-{rng.randint(1, 13):02d}">2024-05</time></p>
{body}
  </article>
  <aside class="related">
    <ul>
{section_items}
    </ul>
  </aside>
</main>
<footer>
  <p>&copy; 2024 {lang}.example.org. {esc(FOOTER[lang])}</p>
  <p><a href="/privacy/">Privacy</a> &middot; <a href="/imprint/">Imprint</a></p>
</footer>
</body>
</html>
"""


def make_warc_pages(seed: int = SEED) -> list[dict]:
    """The crawl: one dict per fetched URL (status, headers, body bytes)."""
    rng = random.Random(seed + 1)
    pools = load_pools()
    utf8_meta = '<meta charset="utf-8">'
    # lang, topic index, how the charset is declared, body encoding
    plan = [
        ("en", 0, "header+meta", "utf-8"),
        ("en", 5, "header", "utf-8"),
        ("en", 6, "header+meta", "utf-8"),
        ("en", 7, "header", "utf-8"),
        ("de", 2, "header+meta", "utf-8"),
        ("de", 1, "header", "utf-8"),
        ("de", 6, "header+meta", "utf-8"),
        ("fr", 3, "header+meta", "utf-8"),
        ("fr", 4, "header", "utf-8"),
        ("es", 1, "header+meta", "utf-8"),
        ("es", 5, "header+meta", "utf-8"),
        ("pt", 2, "header", "utf-8"),
        ("ru", 7, "header+meta", "utf-8"),
        ("ru", 0, "meta-only", "windows-1251"),
        ("uk", 3, "header+meta", "utf-8"),
        ("zh", 6, "header+meta", "utf-8"),
        ("zh", 1, "meta-only", "gb18030"),
        ("ja", 2, "header", "utf-8"),
        ("ja", 4, "meta-only", "shift_jis"),
        ("ar", 5, "header+meta", "utf-8"),
        ("hi", 0, "header+meta", "utf-8"),
        ("el", 3, "header+meta", "utf-8"),
        ("el", 4, "none", "utf-8"),
        ("ko", 7, "header+meta", "utf-8"),
        ("ko", 6, "header", "utf-8"),
    ]
    meta_only = {
        "windows-1251": '<meta charset="windows-1251">',
        "shift_jis": '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">',
        "gb18030": '<meta charset="gb18030">',
    }
    pages = []
    for n, (lang, topic_i, decl, encoding) in enumerate(plan):
        meta = {
            "header+meta": utf8_meta,
            "header": None,
            "none": None,
            "meta-only": meta_only.get(encoding),
        }[decl]
        body = make_html(rng, pools, lang, topic_i, meta).encode(encoding)  # strict: must fit
        ctype = "text/html; charset=utf-8" if decl.startswith("header") else "text/html"
        pages.append(
            dict(
                url=_url(lang, TOPICS[topic_i], f"{n + 1:03d}.html"),
                status="200 OK",
                ctype=ctype,
                body=body,
                lang=lang,
                extra=[],
            )
        )
    # One exact duplicate of a page at another URL (same bytes, query string differs).
    dup_src = pages[4]
    pages.append(dict(dup_src, url=dup_src["url"] + "?utm_source=newsletter&utm_medium=email"))
    # A 404, a redirect and an image.
    not_found = (
        b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        b"<title>404 Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n"
        b"<p>The requested URL was not found on this server.</p>\n<hr>\n"
        b"<address>nginx</address>\n</body>\n</html>\n"
    )
    pages.append(
        dict(
            url=_url("en", "travel", "old-page.html"),
            status="404 Not Found",
            ctype="text/html; charset=utf-8",
            body=not_found,
            lang=None,
            extra=[],
        )
    )
    moved = (
        "<html><head><title>301 Moved Permanently</title></head><body>"
        "<h1>Moved Permanently</h1><p>The document has moved "
        f'<a href="{pages[0]["url"]}">here</a>.</p></body></html>\n'
    ).encode()
    pages.append(
        dict(
            url=_url("en", "weather", "index.php?id=1"),
            status="301 Moved Permanently",
            ctype="text/html; charset=iso-8859-1",
            body=moved,
            lang=None,
            extra=[("Location", pages[0]["url"])],
        )
    )
    pages.append(
        dict(
            url=_url("de", "static", "logo.png"),
            status="200 OK",
            ctype="image/png",
            body=_tiny_png(),
            lang=None,
            extra=[("Cache-Control", "max-age=86400")],
        )
    )
    # A few more ordinary pages so that there are ~30 responses.
    for lang, topic_i in (("fr", 7), ("es", 2)):
        body = make_html(rng, pools, lang, topic_i, utf8_meta).encode("utf-8")
        pages.append(
            dict(
                url=_url(lang, TOPICS[topic_i], f"{len(pages) + 1:03d}.html"),
                status="200 OK",
                ctype="text/html; charset=utf-8",
                body=body,
                lang=lang,
                extra=[],
            )
        )
    return pages


def write_warc(path: Path, seed: int = SEED) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = make_warc_pages(seed)
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record(
        path.name,
        {
            "software": "crossling scripts/make_demo_data.py (warcio)",
            "format": "WARC File Format 1.0",
            "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
            "isPartOf": "crossling-demo",
            "description": "Synthetic demo crawl of *.example.org; all text written for crossling",
            "robots": "obey",
            "http-header-user-agent": USER_AGENT,
        },
    )
    info.rec_headers.replace_header("WARC-Record-ID", _record_id("warcinfo"))
    info.rec_headers.replace_header("WARC-Date", WARC_START.strftime("%Y-%m-%dT%H:%M:%SZ"))
    writer.write_record(info)
    for i, page in enumerate(pages):
        when = WARC_START + timedelta(seconds=7 * i + 3)
        warc_date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        host = page["url"].split("/")[2]
        path_q = "/" + page["url"].split("/", 3)[3]
        accept_lang = f"{page['lang']},en;q=0.7,*;q=0.5" if page["lang"] else "en,*;q=0.5"
        req_headers = StatusAndHeaders(
            f"GET {path_q} HTTP/1.1",
            [
                ("Host", host),
                ("User-Agent", USER_AGENT),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", accept_lang),
                ("Accept-Encoding", "identity"),
                ("Connection", "close"),
            ],
            is_http_request=True,
        )
        resp_headers = StatusAndHeaders(
            page["status"],
            [
                ("Date", when.strftime(HTTP_DATE)),
                ("Server", "nginx/1.24.0"),
                ("Content-Type", page["ctype"]),
                ("Content-Length", str(len(page["body"]))),
                *page["extra"],
                ("Last-Modified", (when - timedelta(days=3 + i)).strftime(HTTP_DATE)),
                ("Connection", "close"),
            ],
            protocol="HTTP/1.1",
        )
        ip = f"192.0.2.{10 + (sum(map(ord, host)) % 200)}"
        resp = writer.create_warc_record(
            page["url"],
            "response",
            payload=io.BytesIO(page["body"]),
            length=len(page["body"]),
            http_headers=resp_headers,
            warc_headers_dict={
                "WARC-Record-ID": _record_id(f"response:{i}:{page['url']}"),
                "WARC-Date": warc_date,
                "WARC-IP-Address": ip,
                "WARC-Warcinfo-ID": _record_id("warcinfo"),
            },
        )
        req = writer.create_warc_record(
            page["url"],
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=req_headers,
            warc_headers_dict={
                "WARC-Record-ID": _record_id(f"request:{i}:{page['url']}"),
                "WARC-Date": warc_date,
                "WARC-Warcinfo-ID": _record_id("warcinfo"),
            },
        )
        # Writes the response, then the request with WARC-Concurrent-To pointing at it.
        writer.write_request_response_pair(req, resp)
    data = buf.getvalue()
    path.write_bytes(data)
    return len(pages)


# ---------------------------------------------------------------------------------------------
# The demo website (served on 127.0.0.1 by `crossling demo` and crawled over HTTP)
# ---------------------------------------------------------------------------------------------

SITE_LANGS = DOC_LANGS


def _site_page(lang: str, title: str, nav: str, body: str, alternates: str) -> str:
    dir_attr = ' dir="rtl"' if lang == "ar" else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"{dir_attr}>
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
{alternates}
</head>
<body>
<header><nav>
{nav}
</nav></header>
<main>
{body}
</main>
<footer><p>&copy; 2024 crossling demo. {html.escape(FOOTER[lang])}</p>
<p><a href="/private/drafts.html">drafts</a></p></footer>
</body>
</html>
"""


def make_site() -> dict[str, str]:
    """A small multilingual website: per language a home page and one page per topic whose
    six sentences are translations of each other across languages; every page names its
    translations with <link rel="alternate" hreflang>. robots.txt disallows /private/."""
    pools = load_pools()
    files: dict[str, str] = {
        "robots.txt": "User-agent: *\nDisallow: /private/\n",
        "index.html": _site_page(
            "en",
            "crossling demo",
            "",
            "<h1>crossling demo</h1>\n<ul>\n"
            + "".join(f'<li><a href="/{lang}/">{lang}</a></li>\n' for lang in SITE_LANGS)
            + "</ul>",
            "",
        ),
    }
    for lang in SITE_LANGS:
        names = TOPIC_NAMES[lang].split("|")
        nav_items = [f'<a href="/{lang}/">{html.escape(NAV[lang].split("|")[0])}</a>'] + [
            f'<a href="/{lang}/{topic}.html">{html.escape(names[i])}</a>'
            for i, topic in enumerate(TOPICS)
        ]
        nav = "\n".join(nav_items)
        home_alts = "\n".join(
            f'<link rel="alternate" hreflang="{other}" href="/{other}/">' for other in SITE_LANGS
        )
        items = "".join(
            f'<li><a href="/{lang}/{topic}.html">{html.escape(names[i])}</a></li>\n'
            for i, topic in enumerate(TOPICS)
        )
        files[f"{lang}/index.html"] = _site_page(
            lang, NAV[lang].split("|")[0], nav, f"<ul>\n{items}</ul>", home_alts
        )
        for i, topic in enumerate(TOPICS):
            sentences = pools[lang][topic]
            paras = "\n".join(
                f"<p>{html.escape(_join(lang, sentences[k : k + 2]))}</p>"
                for k in range(0, len(sentences), 2)
            )
            alts = "\n".join(
                f'<link rel="alternate" hreflang="{other}" href="/{other}/{topic}.html">'
                for other in SITE_LANGS
            )
            body = f"<article>\n<h1>{html.escape(names[i])}</h1>\n{paras}\n</article>"
            files[f"{lang}/{topic}.html"] = _site_page(lang, names[i], nav, body, alts)
    return files


def write_site(out: Path) -> int:
    if out.exists():
        for f in sorted(out.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
    for rel, text in make_site().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return len(list(out.rglob("*.html")))


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    docs = make_docs(args.seed)
    write_jsonl(out / "docs.jsonl", docs)
    n_pages = write_warc(out / "pages.warc.gz", args.seed)
    pairs = make_parallel(args.seed)
    write_jsonl(out / "parallel.jsonl", pairs)
    labeled = make_labeled()
    write_jsonl(out / "labeled.jsonl", labeled)
    n_site = write_site(out / "site")
    for name in ("docs.jsonl", "pages.warc.gz", "parallel.jsonl", "labeled.jsonl"):
        print(f"{out / name}: {(out / name).stat().st_size:,} bytes")
    print(
        f"{len(docs)} docs, {n_pages} responses, {len(pairs)} pairs, {len(labeled)} labeled, "
        f"{n_site} site pages"
    )


if __name__ == "__main__":
    main()
