#!/usr/bin/env python3
"""Write the framelens demo corpus: short, synthetic, labelled news-like paragraphs.

Usage:
    python3 datasets/make_demo.py            # writes datasets/demo/{train,test,multilingual}.jsonl
    python3 datasets/make_demo.py --out DIR  # the same files in another folder
    python3 datasets/make_demo.py --seed N   # another draw (the committed corpus uses SEED)

Everything here was written for framelens: the sentence templates, the slot fillers (people,
outlets and most organisations are invented) and the multilingual samples. Nothing is copied
from real articles. The corpus is for the quick start, demos and tests only; it says nothing
about any real event.

How a document is built (deterministic: one fixed seed, Python 3 standard library only):
- every document has a primary frame; about 22% (TWO_FRAME_SHARE) also carry a secondary frame;
- the first sentence is a "lede" of the primary frame, the others are body sentences of the
  primary frame, plus (sometimes) a frame-neutral newswire sentence, an "ambiguous" sentence
  that belongs to the frame but borrows words of another one, and, for two-frame documents,
  sentences of the secondary frame (always fewer than or as many as the primary's);
- each frame has core templates and paraphrase templates (synonyms: "unmanned aircraft" for
  "drone", "legislators" for "lawmakers"...). Paraphrases are rare in train (3%) and common in
  test (70%), so a bag-of-words model has to generalise from the few it has seen instead of
  memorising; the ambiguous sentences have paraphrases too;
- `[a|b|c]` inside a template picks one alternative, `{slot}` is filled from the lists below;
- documents are 2-4 sentences and 40-90 words; duplicates are rejected (checked at the end).

Labels are listed primary first, so "first label" accuracy is well defined. With the committed
seed, scikit-learn's TfidfVectorizer(sublinear_tf=True) + LogisticRegression (C=1 or 10) trained
on train.jsonl scores 0.90-0.93 first-label accuracy on test.jsonl (0.90-0.96 over other seeds):
high, not perfect; the errors are mostly two-frame documents and paraphrased ledes.
"""

import argparse
import calendar
import datetime
import json
import os
import random
import re
import sys
from collections import Counter

SEED = 20240611
N_TRAIN = 480
N_TEST = 120
TWO_FRAME_SHARE = 0.22
# Probability of drawing a paraphrase template instead of a core one, per split.
PARAPHRASE_P = {"train": 0.03, "test": 0.7}
MIN_WORDS, MAX_WORDS = 40, 90
# Probability that one body sentence is an "ambiguous" one (frame words borrowed from another).
AMBIG_P = 0.6

FRAMES = [
    "security_defence",
    "diplomacy",
    "economy",
    "humanitarian",
    "resistance_occupation",
    "domestic_politics",
]

# Mild class imbalance, as in any real corpus.
FRAME_WEIGHTS = {
    "security_defence": 1.2,
    "diplomacy": 1.0,
    "economy": 1.0,
    "humanitarian": 0.9,
    "resistance_occupation": 1.1,
    "domestic_politics": 0.8,
}

# Which secondary frame goes with which primary (weights): the pairs news actually mixes.
SECONDARY = {
    "security_defence": {"resistance_occupation": 3, "humanitarian": 2, "diplomacy": 1},
    "diplomacy": {"economy": 3, "security_defence": 2, "humanitarian": 1},
    "economy": {"diplomacy": 3, "domestic_politics": 2},
    "humanitarian": {"security_defence": 3, "resistance_occupation": 1, "diplomacy": 1},
    "resistance_occupation": {"security_defence": 3, "diplomacy": 1, "humanitarian": 1},
    "domestic_politics": {"economy": 3, "security_defence": 1},
}

# Four invented outlets; each leans a little toward two frames (for the corpus-analysis demo).
SOURCES = {
    "Crescent Press Agency": ["resistance_occupation", "security_defence"],
    "Gulf Horizon News": ["economy", "diplomacy"],
    "Meridian Observer": ["humanitarian", "diplomacy"],
    "Levant Daily Wire": ["domestic_politics", "security_defence"],
}
SOURCE_LEAN = 1.6  # extra weight of an outlet for a frame it leans toward (base weight 1)

# Month weights per frame (a gentle trend over 2024 for the frames-over-time demo).
MONTH_TREND = {
    "security_defence": [1, 1, 1, 1, 1, 1, 1.2, 1.4, 1.6, 1.8, 1.6, 1.4],
    "diplomacy": [1.4, 1.4, 1.2, 1, 1, 1, 1, 1, 1.2, 1.2, 1.4, 1.6],
    "economy": [1.6, 1.4, 1.2, 1.2, 1, 1, 1, 1, 1, 1, 1, 1],
    "humanitarian": [0.8, 0.8, 1, 1, 1, 1.2, 1.2, 1.2, 1.4, 1.4, 1.6, 1.8],
    "resistance_occupation": [1, 1, 1.2, 1.4, 1.4, 1.2, 1, 1, 1, 1.2, 1.2, 1],
    "domestic_politics": [1, 1.2, 1.4, 1.6, 1.4, 1.2, 1, 0.8, 0.8, 1, 1, 1],
}

# ---------------------------------------------------------------------------------------------
# Slot fillers. {day} is the weekday of the document's date; the rest are drawn at random.
# ---------------------------------------------------------------------------------------------

SLOTS = {
    "place": [
        "Sana’a", "Naqoura", "al-Quds", "Hodeidah", "Ta’izz", "Ma’rib", "Zahlé", "Bint Jbeil",
        "Tyre", "Baalbek", "Quneitra", "Deir ez-Zor", "Qamishli", "Jenin", "Nablus", "Khan Yunis",
        "Rafah", "Erbil", "Basra", "Tartus", "Homs", "Aleppo", "Sidon", "Marjayoun",
        "Bandar Abbas", "al-Bukamal", "Sa’dah", "Tulkarm",
    ],
    "country": ["Lebanon", "Syria", "Iraq", "Yemen", "Iran", "Jordan", "Oman", "Egypt"],
    "capital": [
        "Beirut", "Damascus", "Baghdad", "Tehran", "Doha", "Muscat", "Cairo", "Amman",
        "Geneva", "Vienna", "Ankara", "Riyadh", "Sana’a",
    ],
    "port": ["Hodeidah", "Tartus", "Latakia", "Bandar Abbas", "Umm Qasr", "Aden"],
    "name": [
        "Karim Haddad", "Leila Nasser", "Omid Rahimi", "Youssef al-Amin", "Samir Khoury",
        "Huda Mansour", "Farid Qasemi", "Rania Daher", "Tariq al-Hashimi", "Nadia Sarraf",
        "Hossein Karimi", "Maha O’Neill", "Jamil Barakat", "Zeinab Fadlallah",
    ],
    "month": list(calendar.month_name)[1:],
    "ordinal": ["second", "third", "fourth", "fifth", "sixth"],
    "num": [str(n) for n in range(2, 40)],
    "few": ["two", "three", "four", "five", "six"],
    "big": ["12,000", "18,500", "25,000", "40,000", "63,000", "90,000", "120,000", "150,000"],
    "pct": [str(n) for n in range(4, 61)],
    "money": [
        "$120 million", "$340 million", "$1.2 billion", "$2.5 billion", "$800 million",
        "$75 million", "$4 billion", "$560 million",
    ],
    "rate": ["15,000", "42,500", "89,000", "96,500", "110,000", "580,000"],
    # shared between frames on purpose: the same event is news for several frames
    "any_official": [
        "the prime minister", "the foreign minister", "the defence minister", "the finance minister",
        "the interior minister", "the president", "a senior official", "the government spokesman",
    ],
    "incident": [
        "the air strike on the border villages", "the shelling of the southern towns",
        "the drone attack on the coastal road", "the latest raid on {place}",
        "the escalation along the frontier", "the bombardment of {place}",
    ],
    "econ_issue": [
        "the sanctions", "the collapse of the currency", "the rise in fuel prices",
        "the freeze on foreign transfers", "the cut in subsidies", "the fall in oil revenue",
    ],
    "agency": [
        "the Levant News Service", "the Eastern Press Bureau", "state television",
        "the official news agency", "a local radio station",
    ],
    # frame-flavoured fillers
    "sec_official": [
        "the army spokesman", "the defence minister", "a senior military commander",
        "the chief of staff", "a security official",
    ],
    "weapon": ["ballistic missiles", "cruise missiles", "attack drones", "anti-tank rockets"],
    "dip_official": [
        "the foreign minister", "the UN special envoy", "the deputy foreign minister",
        "a senior diplomat", "the ministry spokeswoman",
    ],
    "forum": [
        "the Council for Regional Cooperation", "the Arab League", "the United Nations",
        "the Eastern Mediterranean Dialogue Forum", "the Organisation of Islamic Cooperation",
    ],
    "commodity": ["crude oil", "wheat", "natural gas", "fertiliser", "steel", "phosphate"],
    "eco_body": [
        "the central bank", "the finance ministry", "the chamber of commerce",
        "the Regional Development Fund", "the national statistics office",
    ],
    "aid_agency": [
        "the World Food Programme", "UNICEF", "the UN refugee agency", "the Red Crescent",
        "the World Health Organization", "Médecins Sans Frontières", "UNRWA",
    ],
    "movement": [
        "the Islamic Resistance", "the resistance front", "the Popular Committees",
        "the National Liberation Movement", "the resistance factions",
    ],
    "party": [
        "the Reform Bloc", "the National Dignity Party", "the Civic Alliance",
        "the Labour and Justice List", "the Democratic Gathering",
    ],
}

# ---------------------------------------------------------------------------------------------
# Templates. Per frame: "lede" (first sentence), "body", "ambig" (belongs to the frame but borrows
# another frame's words), and their paraphrases "para_lede", "para_body", "para_ambig" (rare in
# train, common in test).
# ---------------------------------------------------------------------------------------------

T = {}

T["security_defence"] = {
    "lede": [
        "The army said on {day} that its air defence units had intercepted {num} drones launched toward {place}.",
        "{Sec_official} said on {day} that troops had been [deployed|sent] along the border near {place} after a series of attacks by militants.",
        "A missile strike [hit|destroyed] a weapons depot outside {place} on {day}, military sources said.",
        "Security forces killed {num} militants in a raid near {place} on {day}, according to a military statement.",
        "The defence ministry said on {day} that a drone strike had targeted a convoy carrying {weapon} on the road to {place}.",
        "Air defence batteries [were activated|opened fire] over {place} on {day} as {weapon} were fired across the border, the army said.",
        "Troops backed by helicopters launched an operation against militants in the hills east of {place} on {day}.",
    ],
    "body": [
        "Officials said the missiles were fired from positions about {num} kilometres from the border.",
        "The military said its radar and air defence systems tracked the incoming drones for several minutes.",
        "Additional troops and armoured vehicles were [sent|moved] to reinforce checkpoints around {place}.",
        "A spokesman for the armed forces said the operation would continue until the border area was secure.",
        "Military analysts said the strike showed the growing range of the drones used in the conflict.",
        "The army said {num} soldiers were wounded in the clashes, which lasted into the night.",
        "Militants had used the area to store explosives and to launch attacks on army patrols, the statement said.",
        "The defence minister ordered a review of air defence cover over the northern air bases.",
        "Naval units were also put on alert near the port of {port}, officials said.",
        "“We will not allow the border to become a launch pad for attacks,” {sec_official} said.",
        "The military said it had [destroyed|dismantled] {num} launch sites and seized a cache of {weapon}.",
        "Security sources said the militants crossed the border at night using smuggling routes.",
        "The army said {incident} had been aimed only at militant positions.",
        "Officers said {incident} followed weeks of intelligence gathering.",
        "{Sec_official} said the government would not bow to pressure over {econ_issue}.",
        "{Any_official} said the armed forces were ready to respond to any attack on the border.",
        "Military sources said {incident} was a response to repeated rocket fire.",
    ],
    "para_lede": [
        "Anti-aircraft batteries brought down {num} unmanned aircraft over {place} late on {day}, a military source said.",
        "Rocket fire struck an arms cache on the outskirts of {place}, the general staff confirmed on {day}.",
        "Residents of {place} said they heard several loud explosions before dawn on {day}.",
    ],
    "para_body": [
        "Soldiers exchanged fire with gunmen near the frontier crossing for several hours.",
        "The general staff said interceptor systems had been moved closer to the frontier.",
        "Commanders described the armed groups as well equipped and said ground operations would widen.",
        "A senior officer said reconnaissance flights had spotted launch positions hidden in orchards.",
        "Infantry units sealed off the valley while engineers cleared roadside bombs.",
    ],
    "ambig": [
        "The strike came hours after diplomats in {capital} said ceasefire talks had stalled.",
        "Military sources said the drones had been assembled from parts bought despite an arms embargo and sanctions.",
        "The army said the attack on the border post had put civilians in nearby villages at risk.",
    ],
    "para_ambig": [
        "Lawmakers were briefed on the operation in a closed session of the defence committee.",
        "The army said the border strikes were needed to protect trade routes and oil facilities.",
        "Officials said the drone attack on {port} had halted shipping and cut export revenue.",
    ],
}

T["diplomacy"] = {
    "lede": [
        "The foreign minister arrived in {capital} on {day} for talks with his counterpart on the regional crisis.",
        "Envoys from {num} countries gathered in {capital} on {day} for a summit on the future of the region.",
        "Ceasefire negotiations resumed in {capital} on {day}, with mediators shuttling between the two delegations.",
        "The UN special envoy met the foreign minister in {capital} on {day}, the ministry said in a statement.",
        "A delegation led by {name} held talks in {capital} on {day} on restoring diplomatic relations.",
        "Foreign ministers of {forum} [met|convened] in {capital} on {day} to discuss a regional peace initiative.",
        "{Dip_official} said on {day} that a new round of talks would open in {capital} next week.",
    ],
    "body": [
        "Both sides described the talks as constructive and agreed to meet again next month.",
        "Diplomats said the draft agreement would include a phased ceasefire and an exchange of prisoners.",
        "The foreign ministry said the envoy carried a message from the president to his counterpart.",
        "Mediators have spent weeks trying to narrow the gaps between the two delegations.",
        "The summit’s closing communiqué called for dialogue and respect for national sovereignty.",
        "Officials said the two countries would reopen their embassies and [appoint|exchange] ambassadors before {month}.",
        "The talks in {capital} were the {ordinal} round of negotiations this year.",
        "{Name}, the deputy foreign minister, said a political solution remained the only way forward.",
        "“There’s a real chance for an agreement if both sides show flexibility,” one diplomat said.",
        "The envoy is expected to brief the Security Council on the negotiations later this month.",
        "{Dip_official} said the delegations had agreed on a joint statement but not on a timetable.",
        "The envoy said {incident} threatened to derail the negotiations.",
        "{Dip_official} said {econ_issue} would be on the agenda of the next meeting.",
        "The government said it was ready to talk but would not negotiate under threat.",
        "{Any_official} said the country would welcome any initiative that led to a lasting ceasefire.",
        "Diplomats said {incident} and {econ_issue} had hardened positions on both sides.",
    ],
    "para_lede": [
        "Emissaries from both capitals held closed-door consultations in {capital} on {day}, according to people familiar with the meetings.",
        "The top diplomat said bridging proposals had been handed to the go-between on {day}.",
        "The two men spoke for more than an hour on {day}, the ministry said, without giving details.",
    ],
    "para_body": [
        "Negotiators said a framework for a truce was close, but several points were unresolved.",
        "Both governments pledged to normalise ties and to restart a joint committee.",
        "The visiting minister said his government backed a negotiated settlement under international law.",
        "A mediator said shuttle diplomacy would continue through the weekend.",
        "The two chief negotiators shook hands in front of cameras after a second day of meetings.",
    ],
    "ambig": [
        "The foreign minister said the talks would also cover sanctions relief and reconstruction funds.",
        "Envoys discussed safe passage for aid convoys and the release of detainees.",
        "The delegation condemned the missile attacks and urged restraint on all sides.",
    ],
    "para_ambig": [
        "Opposition lawmakers criticised the visit, but the ministry said diplomacy was the only option.",
        "The envoy said the talks must first end the shelling and the attacks on civilians.",
        "Mediators said a prisoner exchange could follow if the resistance factions and the occupation agreed to a truce.",
    ],
}

T["economy"] = {
    "lede": [
        "Oil exports from {country} fell by {pct} percent in {month}, the energy ministry said on {day}.",
        "The central bank raised interest rates on {day} as inflation climbed to {pct} percent.",
        "The currency slid to a record low of {rate} to the dollar on {day}, traders in {place} said.",
        "New sanctions announced on {day} target shipping firms accused of carrying {country}’s {commodity}.",
        "The government signed a {money} investment deal with a regional consortium on {day} to rebuild the power grid.",
        "{Eco_body} said on {day} that annual inflation had reached {pct} percent, the highest in a decade.",
        "Exports of {commodity} rose by {pct} percent in the first half of the year, {eco_body} said on {day}.",
    ],
    "body": [
        "Economists said the sanctions had cut access to foreign currency and pushed up import prices.",
        "Trade between the two countries reached {money} last year, according to customs data.",
        "Prices of bread, fuel and medicine have roughly doubled since the start of the year.",
        "The finance ministry said the budget deficit would widen because of lower oil revenue.",
        "Investors remain wary of the banking sector after the freeze on foreign transfers.",
        "Exporters said new tariffs would hurt the textile and farming industries.",
        "The deal includes a pipeline, a free-trade zone and loans from a development bank.",
        "Inflation has eroded salaries, and many public employees now work second jobs.",
        "“Nobody can plan when the dollar changes every hour,” a trader in {place} said.",
        "The oil ministry said output would recover once the export terminal at {port} was repaired.",
        "{Eco_body} forecast growth of {few} percent next year if investment picks up.",
        "Economists said {econ_issue} had hit small businesses and households hardest.",
        "Traders said {incident} had closed the main trade route to {place}.",
        "The government said it would ask parliament to approve emergency spending.",
        "{Any_official} said the government would defend the currency and keep fuel prices stable.",
        "Analysts said {incident} and {econ_issue} would keep investors away for months.",
    ],
    "para_lede": [
        "The national currency lost a fifth of its value against the greenback in {month}, exchange dealers said on {day}.",
        "Crude shipments from the southern terminals dropped sharply, tanker-tracking data showed on {day}.",
        "Queues formed outside banks in {place} on {day} as people tried to withdraw their savings.",
    ],
    "para_body": [
        "Economists warned that the cost of living would keep climbing unless the exchange rate stabilised.",
        "Restrictions on dollar payments have made it harder for importers to pay suppliers abroad.",
        "Shopkeepers said they were repricing goods daily as the local pound fell.",
        "Analysts said growth would stay weak while capital flight continued.",
        "Fuel smuggling across the frontier has drained state revenue, a finance official said.",
    ],
    "ambig": [
        "Traders said the fighting near the border had disrupted trade and pushed up fuel prices.",
        "The central bank governor told parliament the budget could not absorb new subsidies.",
        "Foreign ministers are expected to discuss the sanctions at next week’s summit, economists noted.",
    ],
    "para_ambig": [
        "Importers said food aid shipments were competing with commercial cargo for space at the port.",
        "Bankers said the missile strikes on the port had scared off insurers and investors.",
        "Economists said the protests in {capital} had delayed the reform of fuel subsidies.",
    ],
}

T["humanitarian"] = {
    "lede": [
        "Aid convoys carrying food and medicine reached {place} on {day} after weeks of delays, UN agencies said.",
        "Hospitals in {place} are running out of fuel and medical supplies, the health ministry warned on {day}.",
        "More than {big} refugees have fled to {place} since {month}, the UN refugee agency said on {day}.",
        "Civilians in {place} face severe shortages of water and food, aid groups said on {day}.",
        "{Aid_agency} said on {day} it had delivered {num} trucks of flour to displaced families near {place}.",
        "Doctors at the main hospital in {place} said on {day} that they had no beds left for the wounded.",
        "{Aid_agency} warned on {day} that {big} children in {place} were at risk of malnutrition.",
    ],
    "body": [
        "Doctors said wards were overcrowded and patients were being treated in corridors.",
        "Aid workers said children and the elderly were most at risk from disease and malnutrition.",
        "The UN appealed for {money} to fund shelter, clean water and vaccinations for displaced families.",
        "Many families are sleeping in schools and tents with little protection from the cold.",
        "Shortages of insulin and antibiotics have forced clinics to turn patients away.",
        "{Aid_agency} said its volunteers had evacuated {num} wounded civilians overnight.",
        "UN agencies called for safe access for humanitarian workers and the protection of civilians.",
        "“We’re running out of everything, from painkillers to clean water,” a nurse in {place} said.",
        "The refugee camp near {place} now shelters more than {big} people, twice its capacity.",
        "Aid groups said the convoys had been held at checkpoints for {num} days before they were allowed through.",
        "Water pumping stations have stopped working, leaving civilians to rely on tanker deliveries.",
        "Aid groups said {incident} had cut off water and electricity to thousands of families.",
        "Relief officials said {econ_issue} had made it harder to buy medicine abroad.",
        "The government said it was working with the UN to reopen the main road.",
        "{Any_official} said the priority was to get food and medicine to the displaced.",
        "Doctors said {incident} had filled the wards with wounded children.",
    ],
    "para_lede": [
        "Relief lorries loaded with flour and blankets crossed into {place} on {day}, a relief official said.",
        "Families arriving in {place} on {day} said they had walked for two days carrying only what they could hold.",
        "A relief flight carrying tents and blankets landed near {place} on {day}, charity workers said.",
    ],
    "para_body": [
        "Medical staff described operating by torchlight after power to the clinic was cut.",
        "Tens of thousands of displaced people are sheltering in makeshift camps on the edge of {place}.",
        "Charities said malnutrition among infants had risen sharply over the winter.",
        "Volunteers handed out hot meals and hygiene kits to newly arrived families.",
        "The relief coordinator said the needs far outstripped what donors had pledged.",
        "Paramedics said ambulances could not reach the injured because roads were blocked by rubble.",
    ],
    "ambig": [
        "Doctors said imports of medical equipment had been held up by sanctions on banks.",
        "Aid agencies said air strikes had damaged the roads used by aid convoys.",
        "Hospitals treated dozens of wounded after the shelling, health officials said.",
    ],
    "para_ambig": [
        "The envoy urged all parties to let aid convoys pass without conditions.",
        "Residents said the drone strikes had destroyed the only bakery and the water tower.",
        "Families displaced by the occupation raids are sheltering in a school run by UNRWA.",
    ],
}

T["resistance_occupation"] = {
    "lede": [
        "Resistance factions in {place} vowed on {day} to continue their struggle until the end of the occupation.",
        "Thousands of mourners in {place} on {day} buried {num} martyrs killed in the latest aggression.",
        "{Movement} said on {day} that its fighters had confronted an incursion by occupation forces near {place}.",
        "Settlers backed by occupation troops stormed olive groves outside {place} on {day}, residents said.",
        "Leaders of the resistance front met in {capital} on {day} and praised the steadfastness of the people of {place}.",
        "{Movement} marked the anniversary of the liberation of the south with rallies in {place} on {day}.",
        "Occupation forces raided homes in {place} at dawn on {day}, and resistance fighters [clashed with|confronted] them, local sources said.",
    ],
    "body": [
        "Speakers at the funeral praised the martyrs and said their sacrifice brought liberation closer.",
        "The movement described the raids as aggression and said the occupation would pay the price.",
        "Residents said settlers had uprooted trees and blocked the road to the village.",
        "A resistance spokesman said the fighters’ steadfastness had foiled the enemy’s plans.",
        "The statement called on the nation to stand with the resistance and reject normalisation.",
        "Banners across {place} carried portraits of the martyrs and slogans calling for the liberation of al-Quds.",
        "The factions said settlement expansion would only strengthen the will to resist the occupation.",
        "{Name} of the resistance front said the axis would answer every act of aggression.",
        "“The occupation understands only the language of steadfastness,” {name} told the crowd.",
        "The martyrs’ families received visitors in a mourning tent decorated with resistance flags.",
        "{Movement} said the aggression against {place} would not go unanswered.",
        "The resistance said {incident} showed the true face of the occupation.",
        "{Movement} said {econ_issue} was part of the same war waged by the occupation’s backers.",
        "The government said it stood with the resistance against foreign interference.",
        "{Any_official} said the resistance had every right to defend the land against occupation.",
        "Speakers at the rally said {incident} would only deepen the people’s steadfastness.",
    ],
    "para_lede": [
        "Armed factions pledged to keep up their fight until the last occupier leaves the land, a spokesman said on {day}.",
        "Young men in {place} said on {day} that they were ready to give their lives for the land.",
        "Mourners in {place} on {day} carried the coffins of {num} fallen fighters wrapped in the movement’s flag.",
    ],
    "para_body": [
        "Crowds chanting slogans of defiance carried the coffins of the fallen fighters through {place}.",
        "Colonists from nearby outposts set fire to farmland and attacked shepherds, villagers said.",
        "The movement hailed the endurance of families who refused to leave their homes.",
        "Speakers said the Zionist entity’s crimes would not break the will of the people.",
        "Posters honouring the fallen lined the main square ahead of the anniversary of the uprising.",
        "Fighters of the axis said they had ambushed an enemy patrol near the old frontier fence.",
    ],
    "ambig": [
        "The movement said its fighters had fired rockets at occupation positions across the border.",
        "The resistance rejected the ceasefire proposal as a surrender dressed up as diplomacy.",
        "The statement said sanctions and siege would not weaken the steadfastness of the people.",
    ],
    "para_ambig": [
        "Families of the martyrs said hospitals in the area had been overwhelmed by the wounded.",
        "The resistance said the air strikes on {place} proved that the occupation targets civilians.",
        "Leaders of the factions told the visiting envoy that no talks were possible under occupation.",
    ],
}

T["domestic_politics"] = {
    "lede": [
        "Parliament in {country} approved the new budget on {day} after a heated debate, with {num} lawmakers voting against.",
        "The prime minister reshuffled the cabinet on {day}, replacing the ministers of finance and energy.",
        "Thousands of protesters gathered outside parliament in {capital} on {day} demanding political reform.",
        "The electoral commission said on {day} that parliamentary elections would be held in {month}.",
        "Lawmakers failed for the {ordinal} time on {day} to elect a president, deepening the political deadlock.",
        "{Party} said on {day} it would boycott the cabinet until its reform demands were met.",
        "The cabinet approved a draft election law on {day} and sent it to parliament for a vote.",
    ],
    "body": [
        "Opposition parties accused the government of corruption and called for early elections.",
        "The speaker of parliament adjourned the session after lawmakers traded accusations.",
        "Turnout in the last elections was about {pct} percent, the lowest since the constitution was adopted.",
        "The reform package would change the electoral law and cut the number of ministries.",
        "Protesters said the cabinet had ignored demands for jobs and better public services.",
        "The budget debate focused on public sector wages and the cost of electricity subsidies.",
        "Coalition partners said they would leave the government if the reform bill stalled.",
        "“This budget punishes the poor and protects the powerful,” an opposition lawmaker said.",
        "{Party} won {num} seats in the last parliament and holds three cabinet posts.",
        "The president’s office said consultations on forming a new cabinet would start next week.",
        "Police used tear gas to disperse protesters who tried to reach the parliament building.",
        "Opposition parties said the government had no plan to deal with {econ_issue}.",
        "The opposition demanded a parliamentary inquiry into {incident}.",
        "The government said the protests were being exploited by foreign interference.",
        "{Any_official} said the cabinet would present its reform plan to parliament next week.",
        "Lawmakers from {party} said {econ_issue} had become the main issue of the election campaign.",
    ],
    "para_lede": [
        "Legislators passed the spending bill late on {day} after a session that ran past midnight.",
        "The premier named {few} new ministers in a government shake-up announced on {day}.",
        "The vote was postponed again on {day} after the session failed to reach a quorum.",
    ],
    "para_body": [
        "Demonstrators marched to the assembly building chanting against the ruling bloc.",
        "Voters will choose a new legislature in {month}, the election authority confirmed.",
        "Party leaders traded blame as the vote on the constitutional amendment was postponed.",
        "The ruling coalition’s majority shrank after two blocs walked out of the chamber.",
        "An independent deputy said the chamber had become a stage for patronage rather than policy.",
    ],
    "ambig": [
        "Lawmakers questioned the defence minister over the army’s handling of the border clashes.",
        "The opposition said the government had failed to protect households from inflation.",
        "Protesters blamed the cabinet for shortages of medicine and fuel.",
    ],
    "para_ambig": [
        "Some deputies argued that the foreign minister should answer to parliament for the talks.",
        "The cabinet’s critics said sanctions and the collapse of the currency had been used as an excuse.",
        "Opposition deputies demanded an inquiry into the missile strike on the army barracks.",
    ],
}

# Frame-neutral newswire sentences: shared vocabulary that dilutes every frame a little.
NEUTRAL = [
    "Officials did not immediately respond to requests for comment.",
    "The report could not be independently verified.",
    "{Agency} reported the figures, citing a government official.",
    "The statement was carried by state media late on {day}.",
    "A government spokesman said more details would be announced in the coming days.",
    "According to local media, the situation remained tense on {day}.",
    "It was not clear how the figures had been calculated.",
    "Officials said the situation was being closely monitored.",
    "The government has not commented publicly on the reports.",
    "{Agency} said further statements were expected later in the week.",
]

# ---------------------------------------------------------------------------------------------
# Multilingual samples, written for framelens, to show the analyzer on non-Latin scripts,
# German compounds, zero-width non-joiners (Persian), Arabic diacritics and emoji.
# ---------------------------------------------------------------------------------------------

MULTILINGUAL = [
    {
        "id": "demo-ml-01", "lang": "ru", "labels": ["security_defence"],
        "text": "Во вторник силы противовоздушной обороны сбили три беспилотника над приграничным "
                "районом, сообщили в министерстве обороны. По словам военных, пострадавших нет, "
                "а патрули вдоль границы усилены.",
    },
    {
        "id": "demo-ml-02", "lang": "ru", "labels": ["economy", "diplomacy"],
        "text": "Курс национальной валюты упал до рекордного минимума после объявления новых санкций "
                "против экспорта нефти 📉. Министр иностранных дел заявил, что правительство готово "
                "к переговорам о снятии ограничений.",
    },
    {
        "id": "demo-ml-03", "lang": "ar", "labels": ["humanitarian"],
        "text": "وصلت قافلة مساعدات تحمل أدوية وطحيناً إلى المدينة يوم الأربعاء بعد أسابيع من التأخير. "
                "وقال أطباء إن المستشفيات تعاني نقصاً حاداً في الوقود والمستلزمات الطبية، "
                "وإن آلاف النازحين يعيشون في الخيام.",
    },
    {
        "id": "demo-ml-04", "lang": "ar", "labels": ["resistance_occupation", "security_defence"],
        "text": "أكدت فصائل المقاومة أنها ستواصل التصدي لقوات الاحتلال حتى التحرير الكامل. "
                "وشيّع الآلاف الشهداء الذين سقطوا في العدوان الأخير، ورفعوا شعارات الصمود.",
    },
    {
        "id": "demo-ml-05", "lang": "fa", "labels": ["diplomacy"],
        "text": "وزیر امور خارجه روز دوشنبه برای گفت‌وگو با همتای خود درباره آتش‌بس وارد مسقط شد. "
                "به گفته سخنگوی وزارت خارجه، دو طرف بر ادامه رایزنی‌های دیپلماتیک تأکید کردند 🕊️.",
    },
    {
        "id": "demo-ml-06", "lang": "de", "labels": ["domestic_politics"],
        "text": "Das Parlament hat am Donnerstag nach einer hitzigen Haushaltsdebatte den Staatshaushalt "
                "verabschiedet. Die Oppositionsparteien kritisierten die Regierungskoalition und "
                "forderten eine Wahlrechtsreform sowie vorgezogene Neuwahlen.",
    },
    {
        "id": "demo-ml-07", "lang": "de", "labels": ["diplomacy", "economy"],
        "text": "Der Außenminister reiste zu Waffenstillstandsverhandlungen nach Genf. Nach Angaben "
                "von Diplomaten sollen die Wirtschaftssanktionen und die Ölexportbeschränkungen "
                "schrittweise gelockert werden, falls die Gespräche vorankommen. 🤝",
    },
    {
        "id": "demo-ml-08", "lang": "zh", "labels": ["diplomacy", "humanitarian"],
        "text": "周二，外交部长在多哈与地区国家代表举行会谈，讨论停火谈判和人道主义援助。"
                "双方同意下个月继续磋商，并呼吁保障援助车队安全通行。",
    },
]

# ---------------------------------------------------------------------------------------------

SLOT_RE = re.compile(r"\{([A-Za-z_]+)\}")
ALT_RE = re.compile(r"\[([^\[\]]+)\]")


def weighted(rng, weights):
    """Pick a key of `weights` (a dict) with probability proportional to its value."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


def fill(rng, template, day):
    """Expand `[a|b]` alternatives, then `{slot}` fillers (a capitalised slot name capitalises
    the filler); a slot used twice in one sentence gets the same filler both times."""
    text = ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    chosen = {}

    def slot(m):
        name = m.group(1)
        key = name.lower()
        if key == "day":
            return day
        if key not in chosen:
            chosen[key] = rng.choice(SLOTS[key])
        value = chosen[key]
        return value[0].upper() + value[1:] if name[0].isupper() else value

    for _ in range(3):  # fillers may hold slots themselves ("the bombardment of {place}")
        text = SLOT_RE.sub(slot, text)
    return text


def pick(rng, frame, kind, split):
    """A template of `frame`: a lede or a body sentence, a paraphrase with the split's odds."""
    if rng.random() < PARAPHRASE_P[split]:
        return rng.choice(T[frame]["para_" + kind])
    return rng.choice(T[frame][kind])


def make_date(rng, frame):
    month = rng.choices(range(1, 13), weights=MONTH_TREND[frame], k=1)[0]
    day = rng.randint(1, calendar.monthrange(2024, month)[1])
    return datetime.date(2024, month, day)


def make_source(rng, frame):
    return weighted(rng, {s: 1 + (SOURCE_LEAN if frame in lean else 0) for s, lean in SOURCES.items()})


def compose(rng, primary, secondary, split):
    """The template list of one document (unfilled), primary frame first."""
    if secondary is None:
        n = rng.choice([2, 3, 3, 4])
        n_secondary = 0
    else:
        n = rng.choice([3, 4, 4, 4])
        # The primary frame always has at least as many sentences as the secondary, and the lede.
        n_secondary = 1 if n == 3 or rng.random() < 0.2 else 2
    n_primary = n - n_secondary

    body = [pick(rng, primary, "body", split) for _ in range(n_primary - 1)]
    extra = []
    if body and rng.random() < AMBIG_P:
        body[rng.randrange(len(body))] = pick(rng, primary, "ambig", split)
    if rng.random() < 0.3:
        extra.append(rng.choice(NEUTRAL))
    rest = body + [pick(rng, secondary, "body", split) for _ in range(n_secondary)] + extra
    rng.shuffle(rest)
    return [pick(rng, primary, "lede", split)] + rest


def make_doc(rng, split, seen):
    """One distinct document (id filled in by the caller)."""
    primary = weighted(rng, FRAME_WEIGHTS)
    secondary = weighted(rng, SECONDARY[primary]) if rng.random() < TWO_FRAME_SHARE else None
    date = make_date(rng, primary)
    weekday = calendar.day_name[date.weekday()]
    while True:
        templates = compose(rng, primary, secondary, split)
        if len(set(templates)) < len(templates):
            continue
        sentences = [fill(rng, t, weekday) for t in templates]
        text = " ".join(sentences)
        words = len(text.split())
        if MIN_WORDS <= words <= MAX_WORDS and text not in seen:
            seen.add(text)
            break
    labels = [primary] + ([secondary] if secondary else [])
    return {
        "text": text,
        "labels": labels,
        "source": make_source(rng, primary),
        "date": date.isoformat(),
    }


def make_split(rng, split, n, seen):
    docs = []
    for i in range(1, n + 1):
        doc = make_doc(rng, split, seen)
        docs.append({"id": f"demo-{split}-{i:04d}", **doc})
    return docs


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def check(train, test):
    """Fail loudly on anything the tests rely on: distinct texts and ids, known labels, lengths.
    (Explicit checks, not `assert`, so that `python3 -O` cannot skip them.)"""

    def require(ok, what, doc=None):
        if not ok:
            sys.exit(f"make_demo.py: {what}" + (f": {doc}" if doc else ""))

    docs = train + test
    texts = [d["text"] for d in docs]
    ids = [d["id"] for d in docs]
    require(len(set(texts)) == len(texts), "duplicate texts")
    require(len(set(ids)) == len(ids), "duplicate ids")
    for d in docs:
        require(d["labels"] and all(l in FRAMES for l in d["labels"]), "unknown label", d)
        require(len(set(d["labels"])) == len(d["labels"]), "repeated label", d)
        require(MIN_WORDS <= len(d["text"].split()) <= MAX_WORDS, "length out of range", d)
        require(d["source"] in SOURCES, "unknown source", d)
        require(datetime.date.fromisoformat(d["date"]).year == 2024, "bad date", d)
        require(not re.search(r"[{}\[\]]", d["text"]), "unfilled template", d)
    for d in MULTILINGUAL:
        require(all(l in FRAMES for l in d["labels"]), "unknown label", d)


def summary(name, docs):
    first = Counter(d["labels"][0] for d in docs)
    every = Counter(l for d in docs for l in d["labels"])
    two = sum(len(d["labels"]) == 2 for d in docs)
    words = [len(d["text"].split()) for d in docs]
    print(f"{name}: {len(docs)} docs, two-label {two} ({two / len(docs):.1%}), "
          f"words {min(words)}-{max(words)} (mean {sum(words) / len(words):.0f})")
    print(f"  {'label':<24}{'first':>7}{'any':>7}")
    for frame in FRAMES:
        print(f"  {frame:<24}{first[frame]:>7}{every[frame]:>7}")


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "demo"),
                        help="output folder (default: datasets/demo beside this script)")
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"random seed (default {SEED}: the committed corpus)")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    seen = set()
    train = make_split(rng, "train", N_TRAIN, seen)
    test = make_split(rng, "test", N_TEST, seen)
    check(train, test)

    os.makedirs(args.out, exist_ok=True)
    write_jsonl(os.path.join(args.out, "train.jsonl"), train)
    write_jsonl(os.path.join(args.out, "test.jsonl"), test)
    write_jsonl(os.path.join(args.out, "multilingual.jsonl"), MULTILINGUAL)

    summary("train", train)
    summary("test", test)
    both = train + test
    two = sum(len(d["labels"]) == 2 for d in both)
    print(f"all: {len(both)} docs, two-label share {two / len(both):.1%}")
    print(f"multilingual: {len(MULTILINGUAL)} docs "
          f"({', '.join(sorted({d['lang'] for d in MULTILINGUAL}))})")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
