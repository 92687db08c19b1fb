"""Errors are data: every problem found is an `Issue` with a code, a location and a value.

The CLI, the error workbook and the JSON report all render these same objects. The French
wording of each code lives in MESSAGES, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

import polars as pl


class Severity(StrEnum):
    ERROR = "erreur"
    WARNING = "avertissement"


# code → (severity, French message). Placeholders are filled from the field's definition.
MESSAGES: dict[str, tuple[Severity, str]] = {
    # the workbook as a whole (exit code 2)
    "fichier_introuvable": (Severity.ERROR, "Le fichier est introuvable. Vérifiez le chemin."),
    "chemin_motif": (Severity.ERROR, "Ce nom est un motif (* ou ?), que la console Windows transmet tel quel : xl2segur lit un seul classeur à la fois.{detail}"),
    "entree_standard": (Severity.ERROR, "xl2segur ne lit pas un classeur sur l'entrée standard (« - ») : indiquez le chemin du classeur (.xlsx ou .ods), par exemple « xl2segur verifier demandes.xlsx »."),
    "chemin_dossier": (Severity.ERROR, "Ce chemin est un dossier, pas un classeur : indiquez le fichier du classeur (.xlsx ou .ods) lui-même."),
    "fichier_verrou": (Severity.ERROR, "Ce fichier n'est pas un classeur : c'est le fichier de verrouillage qu'Excel ou LibreOffice crée à côté du classeur « {detail} » tant qu'il est ouvert. Indiquez « {detail} » lui-même."),
    "fichier_json": (Severity.ERROR, "Ce fichier est un fichier JSON (un fichier de dépôt, ou un retour de l'ASP), pas un classeur : vérifiez et convertissez le classeur rempli (.xlsx ou .ods). Un retour de l'ASP s'enregistre avec « xl2segur retour », un fichier déposé sans xl2segur avec « xl2segur importer »."),
    "fichier_illisible": (Severity.ERROR, "Le fichier n'est pas un classeur Excel lisible ({detail}). Enregistrez-le au format « Classeur Excel (.xlsx) » et recommencez."),
    "format_non_pris_en_charge": (Severity.ERROR, "Les fichiers {detail} ne sont pas lus. Ouvrez-le dans Excel ou LibreOffice et enregistrez-le au format « Classeur Excel (.xlsx) »."),
    "feuille_manquante": (Severity.ERROR, "La feuille « {sheet} » est absente. Partez du modèle donné par « xl2segur modele » ou ajoutez cette feuille avec ses colonnes."),
    "feuille_renommee": (Severity.WARNING, "La feuille du modèle « {sheet} » s'appelle « {value} » dans ce classeur (accents, majuscules ou espaces différents) : elle est lue. Renommez-la « {sheet} » pour ne plus voir cet avertissement."),
    "feuille_ambigue": (Severity.ERROR, "La feuille « {sheet} » est absente, et plusieurs feuilles portent ce nom à un accent, une majuscule ou un espace près ({detail}) : xl2segur ne peut pas choisir. Renommez « {sheet} » celle qui contient les données et renommez ou supprimez l'autre."),
    "colonne_manquante": (Severity.ERROR, "La colonne « {balise} » est absente de la ligne d'en-tête (ligne {row}) de la feuille « {sheet} ». Rétablissez son en-tête exactement ainsi.{detail}"),
    "entete_decale": (Severity.ERROR, "Les balises de la feuille « {sheet} » sont en ligne {detail}, sous cette ligne : la ligne 1 de chaque feuille porte les balises, les données commencent en ligne 2. Supprimez les lignes au-dessus des balises (un titre, par exemple)."),
    "colonne_en_double": (Severity.ERROR, "La colonne « {balise} » figure deux fois dans la feuille « {sheet} » (colonnes {detail} et celle-ci) : gardez-en une seule, sinon l'une des deux serait ignorée."),
    "plage_trop_etendue": (Severity.ERROR, "La feuille « {sheet} » contient une valeur loin après le tableau (cellule {detail}, peut-être un simple espace) : supprimez les lignes et colonnes vides après vos données, enregistrez, puis recommencez."),
    "format_inconnu": (Severity.ERROR, "Format inconnu. Indiquez dans la feuille Entête l'un des formats listés par « xl2segur formats »."),
    "format_absent": (Severity.ERROR, "Le format n'est pas indiqué dans la feuille Entête : recopiez l'identifiant du format (ex. ms2-dui-pds-avance), listé par « xl2segur formats »."),
    "entete_plusieurs_lignes": (Severity.ERROR, "La feuille Entête n'a qu'une ligne, la ligne 2 : un classeur porte un seul numéro ANS et un seul SIRET. Effacez cette ligne, ou faites un classeur par numéro ANS et SIRET."),
    "entete_vide": (Severity.ERROR, "La feuille Entête n'a pas de ligne 2 remplie : indiquez numeroAns, SIRET et le format."),
    "aucune_demande": (Severity.ERROR, "La feuille « {sheet} » ne contient aucune ligne remplie : remplissez-la à partir de la ligne 2, sous la ligne des balises, une ligne par {detail}."),
    "trop_de_lignes": (Severity.ERROR, "La feuille « {sheet} » dépasse la limite de {max} lignes ({detail}). Découpez le classeur."),
    "classeur_trop_gros": (Severity.ERROR, "Le classeur décompressé dépasse {detail} : il est refusé par sécurité. Découpez-le."),
    "classeur_protege": (Severity.ERROR, "Le classeur est protégé par un mot de passe. Enregistrez-en une copie sans mot de passe."),
    # one cell
    "obligatoire": (Severity.ERROR, "Valeur obligatoire : renseignez {balise}."),
    "obligatoire_si": (Severity.ERROR, "Valeur obligatoire quand {condition} : renseignez {balise}."),
    "doit_etre_vide": (Severity.ERROR, "Doit rester vide sauf si {condition} : videz la cellule ou corrigez la condition."),
    "doit_etre_vide_si": (Severity.ERROR, "Doit rester vide quand {null_condition} (l'ASP exige alors « null ») : videz la cellule ou corrigez la condition."),
    "valeur_non_exigee": (Severity.WARNING, "Valeur non exigée : l'ASP ne la demande que si {condition}, sans l'interdire ici. Elle est écrite telle quelle dans le fichier de dépôt ; l'ASP pourrait l'ignorer ou refuser la demande : videz la cellule si elle n'a pas lieu d'être."),
    "valeur_non_exigee_commande": (Severity.WARNING, "Valeur non exigée : elle ne sert que si {condition}, et l'appel à financement ne l'interdit pas ailleurs. Elle est gardée, sans servir au contrôle de cette commande (plafond, unicité du client) : videz la cellule si elle n'a pas lieu d'être, ou corrigez {condition_balises}."),
    "attendue_si": (Severity.WARNING, "Valeur attendue quand {condition}, mais le document de l'ASP ne la déclare pas obligatoire (il dit seulement « null » dans le cas contraire) : la demande est déposée avec {balise} à null, et l'ASP pourrait la refuser. Renseignez {balise} si vous connaissez sa valeur."),
    "cellule_en_erreur": (Severity.ERROR, "La cellule affiche une erreur de formule (#N/A, #DIV/0!…) : remplacez-la par une valeur."),
    "formule_sans_valeur": (Severity.ERROR, "La cellule contient une formule enregistrée sans son résultat (classeur écrit par un programme, jamais ouvert dans un tableur) : xl2segur ne calcule pas les formules. Ouvrez le classeur dans Excel ou LibreOffice et enregistrez-le, ou saisissez la valeur."),
    "longueur_exacte": (Severity.ERROR, "Doit compter exactement {length} caractères."),
    "longueur_max": (Severity.ERROR, "Trop long : {max_length} caractères au plus."),
    "motif": (Severity.ERROR, "Format attendu : {hint}."),
    "texte_date": (Severity.WARNING, "La cellule est une date (ou une heure) du tableur, pas du texte : elle est déposée telle qu'il l'affiche. Si vous aviez saisi autre chose (une version 4.2 que le tableur a changée en date du 4 février), saisissez-la comme du texte, précédée d'une apostrophe ('4.2), ou mettez la colonne au format Texte."),
    "majuscules": (Severity.WARNING, "Mis en MAJUSCULES comme l'exige l'ASP."),
    "valeur_non_autorisee": (Severity.ERROR, "Valeur non autorisée. Valeurs possibles : {values}."),
    "operateur_nom_au_lieu_du_code": (Severity.ERROR, "C'est le nom d'un opérateur de messagerie, pas son code : l'ASP attend le code que lui donne l'annexe de ses documents. Écrivez son code, « {written} », dans la cellule (ou choisissez-le dans la liste déroulante)."),
    "operateur_nom_partiel": (Severity.ERROR, "Ce n'est pas un code d'opérateur de messagerie, mais une partie du nom de l'opérateur {written} dans l'annexe des documents de l'ASP, qui attend son code. Si c'est bien le vôtre, écrivez ce code dans la cellule (ou choisissez-le dans la liste déroulante)."),
    "operateur_nom_ambigu": (Severity.ERROR, "Ce n'est pas un code d'opérateur de messagerie, mais une partie du nom de plusieurs opérateurs de l'annexe des documents de l'ASP : {written}. L'ASP attend un code : écrivez dans la cellule celui de votre opérateur (ou choisissez-le dans la liste déroulante)."),
    "casse_corrigee": (Severity.WARNING, "Écriture corrigée pour correspondre exactement à une valeur de la liste (majuscules, accents, espaces)."),
    "booleen_invalide": (Severity.ERROR, "Répondez VRAI ou FAUX (ou oui / non)."),
    "date_invalide": (Severity.ERROR, "Date invalide : saisissez une vraie date au format JJ/MM/AAAA."),
    "date_annee_deux_chiffres": (Severity.ERROR, "Année écrite sur 2 chiffres : xl2segur ne devine pas le siècle. Écrivez l'année sur 4 chiffres, au format JJ/MM/AAAA : 12/03/2026, et non 12/03/26."),
    "date_heure_ignoree": (Severity.WARNING, "Cette date porte aussi une heure : seule la date est déposée (JJ/MM/AAAA), l'heure est ignorée. Vérifiez que c'est bien le jour voulu, ou saisissez la date seule pour ne plus voir cet avertissement."),
    "date_nombre_hors_limites": (Severity.ERROR, "Nombre au lieu d'une date : Excel range une date comme un nombre de jours, et celui-ci tomberait après 2099. Saisissez la date au format JJ/MM/AAAA, l'année sur 4 chiffres (par exemple 12/03/2024), et mettez la cellule au format Date."),
    "date_heure_seule": (Severity.ERROR, "Heure au lieu d'une date : la cellule contient une heure, pas une date (sur un clavier français, « : » et « / » partagent une touche). Saisissez la date au format JJ/MM/AAAA, par exemple 12/03/2024."),
    "date_annee_hors_limites": (Severity.WARNING, "Année inhabituelle, avant 1900 ou après 2099 : la date est écrite « {written} » dans le fichier de dépôt, car les documents de l'ASP ne demandent que le format JJ/MM/AAAA ; mais c'est sans doute une faute de frappe (1850 ou 2204 pour 2024), et l'ASP pourrait refuser la demande. Vérifiez l'année, écrite sur 4 chiffres : JJ/MM/AAAA, par exemple 12/03/2024."),
    "date_affichee_mois_jour": (Severity.WARNING, "La cellule affiche {affiche}, le mois avant le jour (son format de date est à l'américaine), mais la date qu'elle contient, déposée telle quelle, est le {written} (JJ/MM/AAAA) : un lecteur français y lit une autre date. Vérifiez que c'est la bonne ; mettez la cellule au format de date JJ/MM/AAAA pour la voir telle qu'elle est déposée."),
    "montant_pourcentage": (Severity.ERROR, "Pourcentage au lieu d'un montant : la cellule est au format pourcentage (30 % y vaut 0,30). L'ASP attend le montant en euros hors taxe du bon de commande : saisissez-le en euros (par exemple 4866.67) et mettez la cellule au format Nombre."),
    "montant_affiche_arrondi": (Severity.WARNING, "La cellule affiche {affiche}, mais le montant qu'elle contient, déposé tel quel, est {written} : son format de nombre masque des décimales. Vérifiez que c'est le bon montant ; mettez la cellule au format Nombre à 2 décimales pour le voir tel qu'il est déposé."),
    "montant_invalide": (Severity.ERROR, "Montant invalide : saisissez un nombre, par exemple 4866.67 ou 4 866,67."),
    "montant_ambigu": (Severity.ERROR, "Montant ambigu : un point ou une virgule suivi de 3 chiffres sépare les milliers (15.000 = 15 000) ou les décimales (15.000 = 15) ; écrivez le montant sans séparateur de milliers, avec au plus 2 décimales : 15000 ou 15000,00 pour quinze mille euros."),
    "montant_decimales": (Severity.ERROR, "Plus de 2 décimales : l'ASP exige un montant au centime ; arrondissez-le vous-même dans le classeur."),
    "montant_non_positif": (Severity.ERROR, "Le montant doit être strictement positif : l'appel à financement exige le montant de la Prestation Ségur sur le bon de commande, « dont le total ne peut donc apparaitre égal à zéro » : saisissez-le en euros, supérieur à 0 (par exemple 4866.67)."),
    "montant_nul_ou_negatif": (Severity.WARNING, "Montant nul ou négatif : les documents de l'ASP ne fixent pas de minimum (« FLOAT (2 chiffres après le point) »), il est écrit « {written} » dans le fichier de dépôt, mais une prestation Ségur a d'ordinaire un montant positif et l'ASP pourrait refuser la demande. Vérifiez le montant (saisi en euros hors taxe, par exemple 4866.67)."),
    "entier_invalide": (Severity.ERROR, "Saisissez un nombre entier."),
    "entier_trop_grand": (Severity.ERROR, "Nombre trop grand : un nombre entier vaut au plus 9 223 372 036 854 775 807. Vérifiez la saisie (un chiffre de trop, ou un autre nombre collé dans la cellule)."),
    "entier_min": (Severity.ERROR, "Doit être un entier au moins égal à {minimum}."),
    "email_inhabituel": (Severity.WARNING, "Adresse électronique inhabituelle (pas de point après le « @ », une espace ou deux « @ ») : elle respecte la règle de l'ASP (un « @ » après le premier caractère et un point) et est écrite telle quelle, mais l'ASP pourrait la refuser et aucun message n'y arriverait. Vérifiez-la."),
    "email_invalide": (Severity.ERROR, "Adresse électronique invalide : il faut un « @ » après le premier caractère et un point, 149 caractères au plus."),
    "telephone_sans_plus": (Severity.ERROR, "Le « + » de l'indicatif manque : un numéro saisi +33612345678 dans une cellule au format Standard devient le nombre 33612345678, le tableur retire le « + ». Saisissez-le comme du texte, précédé d'une apostrophe ('+33612345678), ou mettez la colonne au format Texte avant de le saisir."),
    "telephone_invalide": (Severity.ERROR, "Numéro invalide : l'ASP exige l'indicatif international, 49 caractères au plus ; écrivez par exemple +33612345678 pour 06 12 34 56 78 (le 0 initial remplacé par +33)."),
    "telephone_inhabituel": (Severity.WARNING, "Numéro inhabituel (autre chose que des chiffres après l'indicatif international, ou trop peu de chiffres) : il comporte l'indicatif exigé par l'ASP et est écrit « {written} » dans le fichier de dépôt, mais l'ASP pourrait le refuser. Vérifiez-le ; la forme habituelle est +33612345678."),
    "telephone_normalise": (Severity.WARNING, "Espaces et séparateurs retirés du numéro."),
    "telephone_indicatif": (Severity.WARNING, "Indicatif international « 00 » remplacé par « + » (et séparateurs retirés) : le numéro est écrit « {written} » dans le fichier de dépôt."),
    "finess_invalide": (Severity.ERROR, "Un FINESS compte 9 caractères (« VARCHAR (=9) ») : 9 chiffres, ou 2A / 2B suivis de 7 chiffres (Corse)."),
    "finess_inhabituel": (Severity.WARNING, "FINESS inhabituel : il compte bien les 9 caractères qu'exige l'ASP (« VARCHAR (=9) ») et est écrit « {written} » dans le fichier de dépôt, mais un FINESS s'écrit de 9 chiffres, ou 2A / 2B suivis de 7 chiffres (Corse). Vérifiez-le (une lettre O pour un zéro ?) : l'ASP pourrait ne pas reconnaître l'établissement."),
    "finess_complete": (Severity.WARNING, "Le FINESS saisi comme un nombre avait perdu ses zéros initiaux : ils ont été rétablis. Formatez la colonne en texte."),
    "finess_cle": (Severity.WARNING, "La clé de contrôle de ce FINESS est fausse : vérifiez qu'il n'y a pas de faute de frappe (l'ASP ne contrôle que la longueur)."),
    "rpps_invalide": (Severity.ERROR, "Un RPPS compte exactement 11 caractères (« VARCHAR (=11) »), 11 chiffres."),
    "rpps_inhabituel": (Severity.WARNING, "RPPS inhabituel : il compte bien les 11 caractères qu'exige l'ASP (« VARCHAR (=11) ») et est écrit « {written} » dans le fichier de dépôt, mais un RPPS s'écrit de 11 chiffres. Vérifiez-le (une lettre O pour un zéro ?) : l'ASP pourrait ne pas reconnaître le professionnel."),
    "rpps_cle": (Severity.WARNING, "La clé de contrôle de ce RPPS est fausse : vérifiez qu'il n'y a pas de faute de frappe (l'ASP ne contrôle que la longueur)."),
    "siret_invalide": (Severity.ERROR, "Un SIRET compte exactement 14 caractères (« VARCHAR (=14) »), 14 chiffres."),
    "siret_inhabituel": (Severity.WARNING, "SIRET inhabituel : il compte bien les 14 caractères qu'exige l'ASP (« VARCHAR (=14) ») et est écrit « {written} » dans le fichier de dépôt, mais un SIRET s'écrit de 14 chiffres. Vérifiez-le : il doit être celui déclaré lors de l'enrôlement sur le portail de l'ASP."),
    "siret_cle": (Severity.WARNING, "La clé de contrôle de ce SIRET est fausse : vérifiez-le (l'ASP ne contrôle que la longueur)."),
    "numero_ans_invalide": (Severity.ERROR, "Le numéro de référencement ANS compte exactement 10 chiffres."),
    "numero_editeur_invalide": (Severity.ERROR, "Le numéro éditeur compte exactement 5 lettres ou chiffres (ex. 00001)."),
    "reference_commande_libre": (Severity.WARNING, "Référence gardée telle quelle : elle n'a pas la forme d'un numéro éditeur (5 lettres ou chiffres, ex. 00001), celle qu'exigent les documents de l'ASP pour les demandes d'avance et de solde de la vague 1. L'appel à financement ne fixe pas la forme de cette référence et ne publie pas de format de dépôt : rien à corriger ici, mais donnez à la demande d'avance de cette commande un numéro éditeur de 5 lettres ou chiffres."),
    "numero_editeur_complete": (Severity.WARNING, "Le numéro saisi comme un nombre avait perdu ses zéros initiaux : ils ont été rétablis. Formatez la colonne en texte."),
    "numero_editeur_normalise": (Severity.WARNING, "Espaces retirés : le numéro éditeur est écrit « {written} » dans le fichier de dépôt et dans le nom des pièces justificatives de la demande. Retirez les espaces de la cellule pour ne plus voir cet avertissement."),
    "identifiant_complete": (Severity.WARNING, "Le numéro saisi comme un nombre avait perdu ses zéros initiaux : ils ont été rétablis. Formatez la colonne en texte."),
    "null_lu_vide": (Severity.WARNING, "« null » lu comme une cellule vide (null dans le fichier de dépôt). Une cellule laissée vide suffit."),
    "identifiant_normalise": (Severity.WARNING, "Espaces retirés, lettres mises en majuscules : l'ASP attend cet identifiant d'un seul tenant. Vérifiez la valeur écrite dans le fichier de dépôt."),
    "numero_asp_invalide": (Severity.ERROR, "Le numéro ASP compte 12 caractères et commence par {prefix} (ex. {prefix}000002) : recopiez celui du retour ASP de l'avance."),
    "numero_asp_inhabituel": (Severity.WARNING, "Numéro ASP inhabituel : il a les 12 caractères et le début qu'exige l'ASP (« VARCHAR (=12) », « de type {prefix}XXXXXX ») et est écrit « {written} » dans le fichier de dépôt, mais ses 6 derniers caractères ne sont pas des lettres ou des chiffres. Vérifiez-le : recopiez celui du retour ASP de l'avance."),
    "format_ecriture_corrigee": (Severity.WARNING, "Identifiant du format écrit avec d'autres majuscules ou des espaces : il est lu « {written} ». Recopiez-le ainsi (c'est l'identifiant listé par « xl2segur formats ») pour ne plus voir cet avertissement."),
    "format_different": (Severity.ERROR, "Ce classeur est au format « {detail} » : utilisez la commande ou le modèle de ce format."),
    # across rows and sheets
    "doublon": (Severity.ERROR, "Doublon : la même valeur de {key} figure plusieurs fois dans la feuille « {sheet} » (lignes {lignes}). Gardez une seule ligne."),
    "doublon_garde": (Severity.WARNING, "La même valeur de {key} figure plusieurs fois dans la feuille « {sheet} » (lignes {lignes}) : le document de l'ASP ne l'interdit pas, elle est écrite autant de fois dans le fichier de dépôt. Gardez une seule ligne si c'est une erreur de saisie."),
    "doublon_casse": (Severity.WARNING, "Ces valeurs de {key} ne diffèrent que par les majuscules et les minuscules (feuille « {sheet} », lignes {lignes}) : le document de l'ASP ne dit pas s'il les distingue, elles sont écrites telles quelles ; les noms de leurs pièces justificatives ne diffèrent que par la casse, ce que Windows et macOS confondent. Donnez-leur des numéros vraiment différents si c'est une erreur de saisie."),
    "parent_inconnu": (Severity.ERROR, "Aucune ligne de la feuille « {parent} » ne correspond ({key}) : corrigez la valeur ou ajoutez la ligne manquante."),
    "sans_enfant": (Severity.ERROR, "Cette ligne n'a aucune ligne dans la feuille « {child} » : ajoutez-en au moins une."),
    "ensemble_manquant": (Severity.ERROR, "Ce {column} n'a pas de ligne dans la feuille « {other} » pour la même demande : ajoutez-la."),
    "ensemble_en_trop": (Severity.ERROR, "Ce {column} ne figure pas dans la feuille « {other} » pour la même demande : retirez cette ligne ou complétez « {other} »."),
    "valeur_masquee_format": (Severity.WARNING, "La cellule {affiche}, mais elle contient cette valeur, lue et déposée telle quelle : son format de nombre (personnalisé) la masque. Vérifiez-la ; mettez la cellule au format Standard pour la voir telle qu'elle est déposée."),
    "colonne_masquee": (Severity.WARNING, "La colonne {column} ({balise}) est masquée dans la feuille « {sheet} » et contient une valeur sur {compte} : xl2segur les lit et les dépose comme les autres, mais qui lit la feuille ne les voit pas. Affichez-la (sélectionnez les colonnes voisines, clic droit, « Afficher ») et vérifiez ces valeurs ; videz les cellules qui ne doivent pas être déposées."),
    # the seeds say nothing of a column's width nor of merged cells: what the user cannot see is
    # read and deposited like the rest, with a warning (reading.SheetScan.narrow_columns, .merged)
    "colonne_etroite": (Severity.WARNING, "La colonne {column} ({balise}) de la feuille « {sheet} » est large de moins d'un millimètre et contient une valeur sur {compte} : xl2segur les lit et les dépose comme les autres, mais qui lit la feuille ne les voit pas. Élargissez-la (sélectionnez les colonnes voisines, clic droit, « Largeur de colonne » ; ou « Afficher » dans Excel) et vérifiez ces valeurs ; videz les cellules qui ne doivent pas être déposées."),
    "cellule_fusionnee_masquee": (Severity.WARNING, "Cette cellule est recouverte par la fusion {plage} de la feuille « {sheet} », qui n'affiche que sa première cellule, {premiere} : sa valeur est lue et déposée telle quelle, mais qui lit la feuille ne la voit pas{autres}. Annulez la fusion pour la voir (sélectionnez {plage}, puis « Fusionner et centrer » dans Excel, « Scinder les cellules » dans LibreOffice) et videz la cellule si elle ne doit pas être déposée."),
    "ligne_masquee": (Severity.WARNING, "Cette ligne est masquée dans la feuille « {sheet} » (masquée ou écartée par un filtre) : xl2segur la lit et la dépose comme les autres. Si elle ne doit pas être déposée, supprimez-la ; sinon, affichez-la pour ne plus voir cet avertissement."),
    "entete_invalide": (Severity.ERROR, "La feuille Entête contient une erreur : aucune demande ne peut être déposée tant qu'elle n'est pas corrigée."),
    "pieces_du_meme_groupe": (Severity.WARNING, "Plusieurs pièces parmi {detail} pour cette demande, alors que le document de l'ASP en attend une (« L'attestation de vérification d'aptitude ou la MOM le cas échéant ») sans interdire les deux : elles sont toutes déclarées dans le fichier de dépôt, mais l'ASP pourrait refuser la demande. Gardez une seule ligne si l'autre pièce n'est pas utile."),
    "piece_non_exigee": (Severity.WARNING, "Pièce non exigée : l'ASP ne demande la pièce {detail}, sans l'interdire ici. Elle est déclarée dans le fichier de dépôt (et jointe à l'archive des pièces) ; l'ASP pourrait refuser la demande : supprimez cette ligne de la feuille « {sheet} » si elle n'a pas lieu d'être, ou corrigez {balises} dans la feuille « {parent} »."),
    # attachments (--pieces) and the ledger (converter/attachments.py, converter/ledger.py)
    "piece_introuvable": (Severity.ERROR, "Pièce {piece} introuvable : le fichier « {detail} » n'est pas dans le dossier des pièces. Déposez-la dans ce dossier sous le nom {nom}, ou indiquez son nom de fichier dans la colonne fichierSource de la feuille Pièces."),
    "piece_format_incorrect": (Severity.ERROR, "Pièce {piece} : le fichier « {detail} » n'est pas un vrai {format} (son contenu ne correspond pas au format déclaré). Enregistrez-la au format {format}, ou corrigez formatFichier dans la feuille Pièces."),
    "piece_autre_format": (Severity.ERROR, "Pièce {piece} : le fichier « {detail} » est en réalité un {reel}, pas un {format}. Au choix : dans la feuille Pièces, déclarez cette pièce au format {reel} (formatFichier) et indiquez « {detail} » dans la colonne fichierSource ; ou déclarez-la au format {reel} et renommez le fichier {nom_reel} ; ou enregistrez-la au format {format}."),
    "piece_vide": (Severity.ERROR, "Pièce {piece} : le fichier « {detail} » est un fichier vide (0 octet), sa copie ou son enregistrement n'a pas abouti. Déposez de nouveau la pièce dans le dossier des pièces."),
    "piece_nom_approchant": (Severity.WARNING, "Pièce {piece} : aucun fichier ne s'appelle exactement « {detail} » ; le fichier « {fichier} », dont le nom n'en diffère que par les majuscules ou l'écriture des accents, a été utilisé. Il est copié dans l'archive sous le nom réglementaire {nom}."),
    "piece_extension_doublee": (Severity.WARNING, "Pièce {piece} : aucun fichier ne s'appelle exactement « {detail} » ; le fichier « {fichier} », dont l'extension est écrite deux fois (Windows masque les extensions connues : le nom affiché était « {detail} »), a été utilisé. Il est copié dans l'archive sous le nom réglementaire {nom}."),
    "piece_nom_ambigu": (Severity.ERROR, "Pièce {piece} : aucun fichier ne s'appelle exactement « {detail} », et plusieurs n'en diffèrent que par les majuscules ou les accents ({fichiers}) : xl2segur ne peut pas choisir. Gardez-en un seul, ou indiquez son nom exact dans la colonne fichierSource de la feuille Pièces."),
    "piece_pdf_entete_decale": (Severity.WARNING, "Pièce {piece} : le fichier « {detail} » ne commence pas par l'en-tête « %PDF- » (il vient après {octets} octets : un retour à la ligne ou une marque d'ordre d'octets laissés par le logiciel qui l'a produit). Les lecteurs PDF l'ouvrent, et les documents de l'ASP ne demandent que le format pdf : il est envoyé tel quel. Si l'ASP le refusait, ouvrez-le et enregistrez-le de nouveau en PDF (« Imprimer en PDF »)."),
    "piece_trop_lourde": (Severity.ERROR, "Pièce {piece} : le fichier « {detail} » pèse {taille}, l'ASP accepte {max} au plus par pièce. Réduisez-le (compression, résolution, numérisation en noir et blanc)."),
    "piece_illisible": (Severity.ERROR, "Pièce {piece} : le fichier « {detail} » ne peut pas être lu ({raison}). Remplacez-le dans le dossier des pièces par la pièce elle-même, lisible par votre compte (vérifiez ses droits d'accès, fermez le programme qui l'utilise), puis reconvertissez."),
    "piece_partagee": (Severity.WARNING, "Pièce {piece} : le fichier « {detail} » est aussi la pièce {autre_piece} de la demande {autre} ({autre_nom}) ; il est copié dans l'archive sous les deux noms. Chaque demande a d'ordinaire ses propres pièces : vérifiez que c'est bien celle de cette demande, sinon déposez la sienne dans le dossier des pièces (ou corrigez la colonne fichierSource de la feuille Pièces)."),
    "piece_chemin_interdit": (Severity.ERROR, "Pièce {piece} : ce nom de fichier sort du dossier des pièces (chemin absolu, « .. » ou lien vers un autre dossier). Indiquez le nom d'un fichier placé dans le dossier donné par --pieces."),
    "deja_deposee": (Severity.ERROR, "La demande {detail} a déjà été déposée (fichier {fichier}) et n'a pas été rejetée par l'ASP : elle n'est pas déposée une seconde fois. Si l'ASP l'a rejetée, enregistrez d'abord son retour avec « xl2segur retour »."),
    "numero_reutilise": (Severity.ERROR, "Le numéro éditeur {detail} est déjà celui d'une autre demande, déposée dans le fichier {fichier} ({autre}) et non rejetée par l'ASP ; celle-ci ({celle}) en est une différente : chaque demande a son propre numéro. Donnez à cette demande un nouveau numéro éditeur de 5 caractères (lettres ou chiffres), jamais utilisé, dans toutes les feuilles du classeur où elle figure et dans le nom de ses pièces justificatives, puis reconvertissez. Si c'est au contraire la même demande, corrigée depuis son dépôt, ne changez pas son numéro : elle serait déposée deux fois ; si le fichier {fichier} n'a pas été déposé sur le portail, retirez-le (« xl2segur retirer ») puis reconvertissez, sinon attendez le retour de l'ASP."),
    "rejetee_nouveau_numero": (Severity.ERROR, "La demande {detail} a été rejetée par l'ASP (fichier {fichier}) : l'ASP exige qu'une demande rejetée soit déposée de nouveau sous un nouveau numéro éditeur. Donnez à cette demande un nouveau numéro éditeur de 5 caractères (lettres ou chiffres), jamais utilisé, dans toutes les feuilles du classeur où elle figure et dans le nom de ses pièces justificatives, puis reconvertissez."),
    # the last guard: the JSON Schema of the deposit file (converter/schema.py)
    "controle_schema": (Severity.ERROR, "Refusée par le contrôle de structure ASP ({detail})."),
    # the ledger and its deposit folder at the start of a conversion (ledger.locate, Ledger.reconcile)
    "registre_repris": (Severity.WARNING, "Le registre « {detail} » d'une version précédente de xl2segur est repris dans ce registre-ci ({fichiers} de dépôt) ; il est renommé « {nom} ». Un seul registre garde ainsi tout l'historique, quel que soit le dossier de sortie."),
    "registre_repris_deux_fois": (Severity.WARNING, "Des demandes du registre repris « {detail} » étaient aussi déposées, dans un autre fichier, avec ce registre-ci qui ne les connaissait pas : {demandes}. Une demande ne se dépose qu'une fois : un de ces fichiers qui n'a pas encore été déposé se retire avec « xl2segur retirer » ; s'ils l'ont été tous deux, l'ASP a reçu la demande deux fois."),
    "registre_ancien_ignore": (Severity.WARNING, "Le registre « {detail} » d'une version précédente de xl2segur n'est pas repris : --registre en désigne un autre. Sans --registre, il serait repris dans le registre habituel ; les demandes qu'il connaît ne sont pas protégées d'un double dépôt par celui-ci."),
    "fichier_adopte": (Severity.WARNING, "Ce fichier de dépôt, nommé par une conversion interrompue, est bien inscrit au registre avec ce contenu : il est gardé."),
    "fichier_adopte_repondu": (Severity.WARNING, "Ce fichier de dépôt, nommé par une conversion interrompue, n'est plus dans ce dossier, mais l'ASP y a répondu (« xl2segur retour ») : il a été déposé, il reste inscrit au registre avec ses demandes."),
    "fichier_deja_depose": (Severity.WARNING, "L'ASP a déjà répondu pour {detail} de ce fichier (« xl2segur retour ») : il a été déposé. Cette copie est pour vos archives : ne la déposez pas une seconde fois."),
    "fichier_adopte_absent": (Severity.WARNING, "Ce fichier de dépôt, nommé par une conversion interrompue, n'est plus dans ce dossier : il a pu être déposé, puis rangé ailleurs. Il reste inscrit au registre avec ses demandes, qui ne seront pas déposées une seconde fois. S'il n'a jamais été déposé sur le portail, retirez-le (« xl2segur retirer {nom} ») : ses demandes seront de nouveau libres."),
    "archive_seule_rang_saute": (Severity.WARNING, "L'archive « {detail} » est dans le dossier de dépôt sans son fichier de dépôt (.json), et le registre ne connaît aucun fichier de ce rang : les fichiers de dépôt écrits prennent les rangs suivants, pour ne pas être nommés à côté d'une archive qui n'est pas la leur (c'est pourquoi leur numéro saute ce rang). Si elle n'a rien à faire dans ce dossier, rangez-la ailleurs ; ne la déposez pas."),
    "archive_differente": (Severity.WARNING, "L'archive « {detail} » n'est pas celle écrite à la conversion : {ecarts}. Si le fichier de dépôt a déjà été déposé, l'ASP a reçu l'archive d'alors : ne déposez pas celle-ci ; sinon, vérifiez que ces pièces sont bien les bonnes avant de la déposer."),
    "fichier_abandonne": (Severity.WARNING, "Ce fichier de dépôt n'a pas reçu son nom avant l'interruption de la conversion qui l'écrivait : il est effacé du registre, et ses demandes sont de nouveau libres."),
    "solde_avance_inconnue": (Severity.WARNING, "Le registre ne connaît pas l'avance de cette demande ({detail}) : le montant, l'OG et les FINESS n'ont pas pu être comparés à ceux de l'avance. Vérifiez-les vous-même."),
    "solde_avance_sans_retour": (Severity.WARNING, "Le retour ASP de l'avance de cette demande n'a pas été enregistré (« xl2segur retour ») : vérifiez que l'avance a bien été acceptée."),
    "solde_avance_rejetee": (Severity.ERROR, "L'avance {detail} a été rejetée par l'ASP : aucun solde ne peut être demandé pour elle."),
    "solde_autre_numero_ans": (Severity.ERROR, "L'avance {detail} est dans le registre sous le numéro ANS {avance_ans} (fichier {fichier}), ce solde sous le numéro ANS {numero_ans}, avec le numéro ASP de cette avance : le solde se dépose sous le numéro ANS de son avance. Si c'est bien son solde, reportez-le dans un classeur de solde dont l'onglet Entête porte le numéro ANS {avance_ans} (un seul numéro ANS par fichier) ; sinon donnez-lui le numéro éditeur de sa propre avance."),
    "solde_avance_sous_autre_numero_ans": (Severity.WARNING, "Le registre ne connaît pas l'avance de cette demande sous le numéro ANS {numero_ans}, mais une avance {detail} sous le numéro ANS {avance_ans} (fichier {fichier}), dont le numéro ASP n'est pas celui de ce solde. Si c'est son avance, ce solde se dépose sous le numéro ANS {avance_ans} avec le numéro ASP de l'avance ; si elle est d'un autre logiciel qui reprend ce numéro éditeur, rien à corriger."),
    "solde_autre_format": (Severity.ERROR, "L'avance {detail} a été déposée au format {format} : son solde se dépose au format {solde}, pas {ce_format} (les noms de ses pièces et le logiciel diffèrent). Reportez-le dans le classeur de solde de ce format (« xl2segur solde » le pré-remplit, ou « xl2segur modele {solde} »)."),
    "solde_avance_retiree": (Severity.ERROR, "L'avance {detail} a été retirée du registre le {retire_le} (« xl2segur retirer ») comme jamais déposée : aucun solde ne peut être demandé pour elle. Si elle a bien été déposée sur le portail, annulez ce retrait (« xl2segur retirer --annuler {fichier} »), enregistrez son retour (« xl2segur retour »), puis reconvertissez ce solde."),
    "solde_montant_superieur": (Severity.ERROR, "Le montant facturé dépasse le montant HT de l'avance ({detail}) : il doit lui être égal ou inférieur."),
    "solde_numero_asp_different": (Severity.ERROR, "Ce numéro ASP n'est pas celui que l'ASP a attribué à l'avance {detail} : recopiez-le depuis le retour de l'avance."),
    "solde_finess_hors_avance": (Severity.ERROR, "Ce {balise} ne figurait pas dans la demande d'avance {detail} : les établissements doivent être identiques à ceux indiqués lors de l'avance."),
    "solde_finess_manquant": (Severity.ERROR, "Le {balise} {value} de la demande d'avance {detail} manque dans la feuille « {sheet} » : les établissements doivent être identiques à ceux indiqués lors de l'avance."),
    "sans_enfant_si": (Severity.ERROR, "Quand {condition}, la demande doit avoir au moins une ligne dans la feuille « {child} » : ajoutez-en une, ou corrigez {balises}."),
    "hors_liste_attendue": (Severity.WARNING, "Ce {column} ne figure pas parmi les {other} de la demande (feuille « {sheet} ») : pour des médecins libéraux, le document de l'ASP attend « RPPS du médecin libéral ». {column} de la demande : {mine} ; {other} : {theirs}. Il est écrit tel quel, mais l'ASP pourrait ne pas reconnaître les envois au DMP : vérifiez-le."),
    "enfant_non_exige": (Severity.WARNING, "Cette ligne n'est exigée que si {condition} (feuille « {parent} »), ce qui n'est pas le cas de cette demande ; l'ASP ne l'interdit pas : elle est écrite telle quelle dans le fichier de dépôt, mais l'ASP pourrait l'ignorer ou refuser la demande. Supprimez-la si elle n'a pas lieu d'être, ou corrigez {balises}."),
    "enfant_interdit": (Severity.ERROR, "Cette ligne n'est permise que si {condition} (feuille « {parent} ») : pour cette demande, la liste doit rester vide. Supprimez la ligne, ou corrigez {balises} dans la feuille « {parent} »."),
    # funding rules of the order-check workbooks (nature `commandes`, converter/checks/rules.py)
    "montant_au_dela_du_plafond": (Severity.ERROR, "Montant supérieur au plafond applicable {plafond} ({detail}) : ramenez le montant du bon de commande au plus à ce plafond."),
    "hors_bareme": (Severity.ERROR, "Plafond incalculable : {detail}"),
    "plafond_non_verifie": (Severity.WARNING, "Plafond non vérifié, le montant est gardé : {detail} Vérifiez le montant du bon de commande avec ce prix maximum."),
    "categorie_non_eligible": (Severity.ERROR, "Catégorie {quoi} non éligible à {programme} : valeurs admises {values}. Vérifiez la catégorie saisie ou le Client."),
    "emission_avant_date0": (Severity.ERROR, "Le bon de commande doit être émis après la Date 0 ({date0}) : émettez un nouveau bon de commande daté après le {date0}."),
    "signature_avant_date0_12_mois": (Severity.ERROR, "Signature avant le {limite} (Date 0 + 12 mois) : le bon de commande doit être signé à partir de cette date."),
    "signature_apres_date4": (Severity.ERROR, "Signature après la Date 4 ({limite}) : la commande n'est pas finançable ; vérifiez la date de signature."),
    "signature_trop_tot": (Severity.ERROR, "Signé avant le référencement, le bon de commande précède de plus de {jours} jours le dépôt du dossier complet de preuves ({limite}) : faites signer un nouveau bon de commande à partir du {debut}."),
    "mention_conditionnelle_absente": (Severity.ERROR, "Bon de commande signé avant le référencement : il doit porter la mention « Bon de commande conditionné à l'obtention par le logiciel du référencement ANS… » ; faites signer un bon de commande qui la porte."),
    "mention_conditionnelle_a_verifier": (Severity.WARNING, "Bon de commande signé avant le référencement (ou sans date de référencement dans l'Entête) : il doit porter la mention « Bon de commande conditionné à l'obtention par le logiciel du référencement ANS… », et cette colonne est vide. Vérifiez que le bon la porte, puis écrivez VRAI (ou FAUX : il sera refusé)."),
    "identifiant_absent_de_la_ligne": (Severity.ERROR, "{explication} : cette valeur n'est {autres} de la ligne. Corrigez {balise}, ou la colonne erronée."),
    "plusieurs_og_sans_mandataire": (Severity.WARNING, "Cette demande compte {detail} OG (feuille « {sheet} ») et {balise} vaut FAUX, alors que l'ASP décrit {balise} comme « la commande est portée par un mandataire pour plusieurs OG ». Si un mandataire porte la commande pour le compte de ces OG, mettez VRAI et renseignez nomMandataire, emailMandataire et telephoneMandataire ; sinon, rien à corriger."),
    "mandataire_un_seul_og": (Severity.WARNING, "Cette demande n'a qu'un OG (feuille « {sheet} ») et {balise} vaut VRAI, alors que l'ASP décrit {balise} comme « la commande est portée par un mandataire pour plusieurs OG ». Si un mandataire porte bien la commande pour le compte de cet OG, rien à corriger ; sinon, mettez FAUX et videz nomMandataire, emailMandataire et telephoneMandataire."),
    # seed 001 §3.1, « La demande de financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS de l'organisme gestionnaire » (rule une_seule_demande)
    "og_dans_plusieurs_demandes": (Severity.WARNING, "L'OG {key} figure aussi dans {autres} de ce classeur, alors que l'ASP écrit « La demande de financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS de l'organisme gestionnaire ». Si ces demandes portent la même commande, réunissez ses ESMS dans une seule demande ; si l'OG a bien signé un bon de commande pour chacune (des ESMS différents), gardez-les telles quelles."),
    "esms_dans_plusieurs_demandes": (Severity.WARNING, "L'ESMS {key} figure aussi dans {autres} de ce classeur : l'ASP finance chaque ESMS éligible une fois (« Le client final est un ESSMS identifié par son FINESS géographique », et « La demande de financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS de l'organisme gestionnaire ») ; toutes acceptées, il serait financé plus d'une fois. Gardez-le dans une seule demande (feuilles FINESS Géo et Scénarios) et corrigez le montant de chaque demande dont vous le retirez."),
    "esms_deja_en_cours": (Severity.WARNING, "L'ESMS {key} figure déjà dans {detail} au registre : l'ASP finance chaque ESMS éligible une fois (« Le client final est un ESSMS identifié par son FINESS géographique », et « La demande de financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS de l'organisme gestionnaire ») ; toutes acceptées, il serait financé plus d'une fois. Si cette demande remplace une avance du registre qui n'a pas été déposée sur le portail, retirez le fichier de celle-ci (« xl2segur retirer ») ; sinon gardez l'ESMS dans une seule demande et corrigez le montant de chaque demande dont vous le retirez."),
    "doublon_casse_registre": (Severity.WARNING, "Ce numéro éditeur ne diffère que par les majuscules et les minuscules de celui de la demande {detail} au registre : le document de l'ASP ne dit pas s'il les distingue, il est écrit tel quel ; les noms de leurs pièces justificatives ne diffèrent que par la casse, ce que Windows et macOS confondent. Si c'est une erreur de saisie, écrivez-le comme au registre s'il s'agit de la même commande (un solde reprend le numéro de son avance), sinon donnez-lui un numéro vraiment différent."),
    "og_deja_en_cours": (Severity.WARNING, "L'OG {key} figure déjà dans {detail} au registre, alors que l'ASP écrit « La demande de financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS de l'organisme gestionnaire ». Si cette demande remplace une avance du registre qui n'a pas été déposée sur le portail, retirez le fichier de celle-ci (« xl2segur retirer ») ; si elles portent la même commande, réunissez ses ESMS dans une seule demande ; si l'OG a bien signé un bon de commande pour chacune (des ESMS différents), gardez-la telle quelle."),
    "client_en_double": (Severity.ERROR, "Le client {key} figure dans plusieurs commandes (lignes {lignes}) : une seule commande de Prestation Ségur est financée par client ({programme}) ; gardez une seule ligne."),
}


@dataclass(frozen=True, slots=True)  # slots: a wholly rejected workbook holds ~1 million of them
class Issue:
    """One problem, located as precisely as known."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    sheet: str | None = None
    row: int | None = None  # row number in the user's workbook (1 = header)
    column: str | None = None  # column letter in the user's workbook
    balise: str | None = None
    value: str | None = None
    numero_editeur: str | None = None
    # the rows of its sheet the message names (every row of a duplicate group), numbered as in the
    # checked workbook: each renderer names them in its message (`{lignes}` in the catalogue)
    rows: tuple[int, ...] | None = None
    file: str | None = None
    # the message with its rows left out (ROWS_HOLE), for a renderer that numbers them otherwise
    template: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    @property
    def cell(self) -> str | None:
        return f"{self.column}{self.row}" if self.column and self.row else None

    def location(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"feuille « {self.sheet} »")
        if self.row:
            parts.append(f"ligne {self.row}")
        if self.column:
            parts.append(f"colonne {self.column}" + (f" ({self.balise})" if self.balise else ""))
        elif self.balise:
            parts.append(self.balise)
        return ", ".join(parts)

    def whole_file(self) -> str | None:
        """« fichier « nom » » for a problem of a whole file (nothing else locates it), else None."""
        if self.location() or not self.file:
            return None
        return f"fichier « {self.file.replace(chr(92), '/').rsplit('/', 1)[-1]} »"

    def render(self) -> str:
        where = self.location() or self.whole_file()
        value = f" — valeur « {shown(self.value)} »" if self.value not in (None, "") else ""
        return visible(f"{where}{value} : {self.message}" if where else self.message)

    def rows_placed(self, placed: Mapping[int, int]) -> Issue:
        """The issue, its message naming its rows as a workbook where they moved numbers them
        (`placed`: row of the checked workbook → row there): « lignes 2, 3 de ce classeur ;
        lignes 6, 7 du classeur d'origine »."""
        if self.template is None or not self.rows:
            return self
        text = fill_rows(self.template, self.rows, placed)
        return self if text == self.message else replace(self, message=text)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["template"]
        data["severity"] = str(self.severity)
        data["rows"] = list(self.rows) if self.rows is not None else None
        return data


# Where a message names rows (`{lignes}`) until a renderer fills them: no cell can hold it.
ROWS_HOLE = "\x00"


def rows_named(rows: Sequence[int], placed: Mapping[int, int] | None = None) -> str:
    """The rows an issue names, as its message says them: « 6, 7 » in the checked workbook; in a
    workbook where they moved (`placed`), those rows there, then the original ones.

    >>> rows_named([6, 7]), rows_named([6, 7], {6: 2, 7: 3}), rows_named([6, 7], {6: 2})
    ('6, 7', "2, 3 de ce classeur ; lignes 6, 7 du classeur d'origine", '6, 7')
    """
    original = ", ".join(str(r) for r in rows)
    if not placed:
        return original
    here = [placed.get(r) for r in rows]
    if None in here or here == list(rows):
        return original
    return f"{', '.join(str(r) for r in here)} de ce classeur ; lignes {original} du classeur d'origine"


def fill_rows(template: str, rows: Sequence[int], placed: Mapping[int, int] | None = None) -> str:
    return template.replace(ROWS_HOLE, rows_named(rows, placed))


_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_CONTROLS = re.compile(f"[{_LINE_BREAKS}]|[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    r"""One line, nothing a terminal obeys: a line break typed in a cell (Alt+Entrée) is shown
    « ↵ », another control character (an escape sequence) as its code.

    >>> visible("T\nTC"), visible("\x1b[2J")
    ('T↵TC', '\\x1b[2J')
    """
    return _CONTROLS.sub(lambda m: "↵" if m.group() in _LINE_BREAKS else f"\\x{ord(m.group()):02x}", text)


SHOWN_CHARS = 200  # beyond, a value is shown by its start and its length (console, « Erreurs » sheet)


def shown(value: str) -> str:
    r"""A value as the console and the error workbook's « Erreurs » sheet show it: on one line,
    nothing a terminal obeys (`visible`), only its start when it is long (the report and the
    value's own cell keep it whole).

    >>> shown("a\x07b"), shown("X" * 5000) == "X" * SHOWN_CHARS + "… (valeur de 5000 caractères, abrégée)"
    ('a\\x07b', True)
    """
    if len(value) <= SHOWN_CHARS:
        return visible(value)
    return f"{visible(value[:SHOWN_CHARS])}… (valeur de {len(value)} caractères, abrégée)"


def message(code: str, **params: Any) -> str:
    template = MESSAGES[code][1]
    try:
        return template.format(**params)
    except KeyError as missing:  # a definition lacks a parameter: say so plainly
        raise KeyError(f"message {code!r} needs parameter {missing}") from None


def severity(code: str) -> Severity:
    return MESSAGES[code][0]


def issue(code: str, **kw: Any) -> Issue:
    """Build an Issue whose message comes from the catalogue; extra kw fill placeholders."""
    fields = {k: kw.pop(k) for k in list(kw) if k in Issue.__dataclass_fields__}
    params = {**{k: v for k, v in fields.items() if v is not None}, **kw}
    if fields.get("rows"):  # the message names rows: keep it with them left out, for the renderers
        fields["rows"] = tuple(fields["rows"])
        fields["template"] = message(code, **params, lignes=ROWS_HOLE)
        return Issue(code=code, message=fill_rows(fields["template"], fields["rows"]), severity=severity(code),
                     **fields)
    return Issue(code=code, message=message(code, **params), severity=severity(code), **fields)


# Columnar form, used while checking large workbooks. The message of an issue that names rows
# (`rows`) leaves them out (ROWS_HOLE) until it is an Issue.
ISSUE_SCHEMA = {
    "code": pl.String, "message": pl.String, "severity": pl.String, "sheet": pl.String,
    "row": pl.Int64, "column": pl.String, "balise": pl.String, "value": pl.String,
    "numero_editeur": pl.String, "rows": pl.List(pl.Int64),
}
NO_ROWS = pl.lit(None, dtype=pl.List(pl.Int64))  # the `rows` of an issue that names no other row


def issues_from_frame(frame: pl.DataFrame, file: str | None = None) -> list[Issue]:
    # one object per distinct text, one column at a time: the problems of a wholly rejected
    # workbook repeat the same codes, sheets, balises, messages and values (20,000 demandes,
    # every column wrong: 927,000 problems held 475 MiB of Python objects, 104 MiB once shared)
    columns: dict[str, list[Any]] = {}
    for name, dtype in ISSUE_SCHEMA.items():
        values = frame.get_column(name).to_list()
        if dtype == pl.String:
            seen: dict[str | None, str | None] = {}
            values = [seen.setdefault(v, v) for v in values]
        columns[name] = values
    columns["severity"] = [Severity(v) for v in columns["severity"]]
    found = []
    for rec in zip(*columns.values()):
        item = dict(zip(columns, rec))
        rows = item.pop("rows")
        if rows:
            item.update(rows=tuple(rows), template=item["message"], message=fill_rows(item["message"], rows))
        found.append(Issue(**item, file=file))
    return found


MADE_AT_ONCE = 10_000
"""Problems of `Issues` made objects at a time (a batch's texts shared, as issues_from_frame does)."""


class Issues(Sequence[Issue]):
    """Every problem of a check or a conversion, in order: the checks' as columns (`frame`,
    ISSUE_SCHEMA, all of one workbook `file`), then those found later (the ledger, the
    attachments, the JSON Schema: `later`, a few objects). An `Issue` is made only where it is
    read, a batch at a time: a workbook rejected in bulk (100,000 demandes, a million problems)
    held a million of them from its check to its last line printed."""

    def __init__(self, frame: pl.DataFrame | None = None, file: str | None = None, later: Iterable[Issue] = ()):
        self.frame = pl.DataFrame(schema=ISSUE_SCHEMA) if frame is None else frame
        self.file = file
        self.later = list(later)

    def __len__(self) -> int:
        return self.frame.height + len(self.later)

    def __iter__(self) -> Iterator[Issue]:
        for start in range(0, self.frame.height, MADE_AT_ONCE):
            yield from issues_from_frame(self.frame.slice(start, MADE_AT_ONCE), self.file)
        yield from self.later

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            height = self.frame.height
            made = issues_from_frame(self.frame.slice(start, max(0, min(stop, height) - start)), self.file) \
                if start < height else []
            return [*made, *self.later[max(0, start - height):max(0, stop - height)]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self[index:index + 1][0]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Issues, list, tuple)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Issues({len(self)} problèmes)"

    def _kept(self, errors: bool) -> Issues:
        wanted = str(Severity.ERROR if errors else Severity.WARNING)
        return Issues(self.frame.filter(pl.col("severity") == wanted), self.file,
                      [i for i in self.later if i.is_error == errors])

    @property
    def errors(self) -> Issues:
        return self._kept(True)

    @property
    def warnings(self) -> Issues:
        return self._kept(False)

    def codes(self) -> set[str]:
        return {*self.frame.get_column("code").unique().to_list(), *(i.code for i in self.later)}

    def numeros(self) -> set[str]:
        """The numéros éditeur the problems name."""
        named = self.frame.get_column("numero_editeur").drop_nulls().unique().to_list()
        return {*named, *(i.numero_editeur for i in self.later if i.numero_editeur is not None)}

    def first_of_each_code(self, n: int) -> tuple[list[Issue], dict[str, int]]:
        """The first `n` problems of each code, in order, and how many each code has (codes in
        the order they first come)."""
        codes = self.frame.get_column("code")
        firsts = self.frame.filter(pl.int_range(pl.len()).over("code") < n)
        totals = dict(codes.value_counts(sort=False).select("code", "count").iter_rows()) if len(codes) else {}
        totals = {code: totals[code] for code in codes.unique(maintain_order=True).to_list()}
        shown = issues_from_frame(firsts, self.file)
        for later in self.later:
            totals[later.code] = totals.get(later.code, 0) + 1
            if totals[later.code] <= n:
                shown.append(later)
        return shown, totals
