"""Origin countries of the synthetic population: NIS codes, shares and migration profiles.

NIS country codes are those of domain research section 1.7 (150 = Belgium, 129 = the
Netherlands, 354 = Morocco, 262 = Turkey, ...). Shares are the suggested mix of the
foreign-origin population of Flanders (domain research section 5.2), in percent; the
generator normalises them. A profile says how a group migrated (age structure, arrival
periods, how many are born in Belgium, mixed couples, naturalisation); its numbers are
calibration guesses [I] chosen so that the aggregate figures of section 5 come out.
"""

from __future__ import annotations

from dataclasses import dataclass

BELGIUM = "150"

AGE_BANDS = (0, 18, 30, 45, 65, 80)
"""Lower bounds of the age bands used by the profiles: 0-17, 18-29, 30-44, 45-64, 65-79, 80+."""

ARRIVAL_PERIODS = ((1950, 1969), (1970, 1989), (1990, 1999), (2000, 2009), (2010, 2014),
                   (2015, 2019), (2020, 2024))


@dataclass(frozen=True)
class Profile:
    name: str
    age_weight: tuple[float, ...]      # relative presence per AGE_BANDS band
    arrival: tuple[float, ...]         # weight per ARRIVAL_PERIODS period
    born_in_belgium: tuple[float, ...]  # P(born in Belgium) per AGE_BANDS band
    mixed_couple: float                # P(one parent Belgian) for those born in Belgium
    belgian_at_birth: float            # P(Belgian first nationality | born in BE, two foreign parents)
    naturalisation: float              # P(naturalised) after long residence
    employment: float                  # employment rate 20-64 before individual factors
    unemployment_share: float          # P(job seeker | not working, 20-64)
    female_employment: float           # factor on women's employment


PROFILES = {p.name: p for p in (
    Profile("neighbour", (1.0, 1.0, 1.0, 1.0, 0.8, 0.6), (.08, .15, .15, .20, .12, .15, .15),
            (.60, .55, .45, .40, .45, .45), .70, .50, .15, .74, .20, .93),
    Profile("south_eu_old", (0.45, 0.6, 0.8, 1.3, 1.9, 1.6), (.35, .20, .08, .10, .10, .10, .07),
            (.90, .90, .85, .72, .35, .20), .45, .60, .50, .70, .20, .88),
    Profile("guest_worker", (1.2, 1.3, 1.2, 1.0, 0.55, 0.2), (.12, .25, .15, .20, .10, .10, .08),
            (.90, .85, .65, .30, .04, .02), .15, .75, .95, .56, .26, .72),
    Profile("eu_east", (1.0, 1.4, 1.5, 0.8, 0.3, 0.15), (0, .02, .05, .23, .25, .25, .20),
            (.50, .20, .08, .04, .03, .03), .35, .20, .20, .76, .20, .92),
    Profile("refugee", (1.6, 1.6, 1.2, 0.5, 0.15, 0.05), (0, 0, .03, .07, .10, .45, .35),
            (.40, .12, .05, .02, .01, 0), .05, .20, .85, .45, .30, .65),
    Profile("balkan_exsoviet", (1.1, 1.2, 1.3, 0.9, 0.4, 0.15), (0, .02, .25, .30, .10, .13, .20),
            (.60, .45, .20, .06, .02, .01), .20, .40, .85, .60, .25, .85),
    Profile("africa", (1.2, 1.3, 1.2, 0.8, 0.3, 0.1), (.01, .05, .15, .30, .17, .17, .15),
            (.65, .45, .25, .10, .05, .03), .35, .50, .85, .56, .30, .88),
    Profile("asia", (1.0, 1.3, 1.4, 0.8, 0.3, 0.1), (0, .04, .10, .25, .20, .21, .20),
            (.55, .30, .12, .05, .03, .03), .40, .40, .70, .62, .22, .82),
    Profile("latam", (1.0, 1.4, 1.4, 0.7, 0.2, 0.1), (0, .02, .08, .25, .20, .25, .20),
            (.50, .25, .08, .04, .03, .03), .50, .40, .70, .62, .25, .85),
)}


@dataclass(frozen=True)
class Country:
    nis: str
    iso2: str
    name: str
    share: float          # percent of the foreign-origin population
    profile: str
    names: str            # name group in linkage.synth.names
    eu: bool              # EU27 or EEA/CH: no civic-integration obligation
    uncertain_birth_dates: float = 0.0  # share of foreign-born with unknown day and month
    historic: tuple[tuple[str, int], ...] = ()  # (NIS code, last registration year) of predecessor states


_USSR = (("131", 1991),)
_YUGOSLAVIA = (("169", 1991), ("132", 2006))
_CZECHOSLOVAKIA = (("130", 1992),)

COUNTRIES: tuple[Country, ...] = (
    Country("129", "NL", "Nederland", 14.0, "neighbour", "nl_NL", True),
    Country("354", "MA", "Marokko", 12.0, "guest_worker", "maghreb", False, 0.04),
    Country("262", "TR", "Turkije", 8.0, "guest_worker", "turkish", False, 0.02),
    Country("128", "IT", "Italië", 4.0, "south_eu_old", "it_IT", True),
    Country("124", "RO", "Roemenië", 5.0, "eu_east", "ro_RO", True),
    Country("139", "PL", "Polen", 5.0, "eu_east", "pl_PL", True),
    Country("106", "BG", "Bulgarije", 3.0, "eu_east", "cyrillic_bg", True),
    Country("111", "FR", "Frankrijk", 3.0, "neighbour", "fr_FR", True),
    Country("103", "DE", "Duitsland", 2.0, "neighbour", "de_DE", True),
    Country("109", "ES", "Spanje", 2.0, "south_eu_old", "es_ES", True),
    Country("123", "PT", "Portugal", 1.5, "south_eu_old", "pt_PT", True),
    Country("114", "GR", "Griekenland", 0.6, "south_eu_old", "greek", True),
    Country("115", "HU", "Hongarije", 0.5, "eu_east", "hu_HU", True),
    Country("141", "SK", "Slowakije", 0.6, "eu_east", "sk_SK", True, 0.0, _CZECHOSLOVAKIA),
    Country("140", "CZ", "Tsjechië", 0.3, "eu_east", "cs_CZ", True, 0.0, _CZECHOSLOVAKIA),
    Country("137", "LT", "Litouwen", 0.3, "eu_east", "lt_LT", True, 0.0, _USSR),
    Country("135", "LV", "Letland", 0.1, "eu_east", "lt_LT", True, 0.0, _USSR),
    Country("146", "HR", "Kroatië", 0.3, "eu_east", "bosnian", True, 0.0, _YUGOSLAVIA[:1]),
    Country("147", "SI", "Slovenië", 0.1, "eu_east", "bosnian", True, 0.0, _YUGOSLAVIA[:1]),
    Country("105", "AT", "Oostenrijk", 0.3, "neighbour", "de_DE", True),
    Country("113", "LU", "Luxemburg", 0.2, "neighbour", "fr_FR", True),
    Country("116", "IE", "Ierland", 0.1, "neighbour", "en_GB", True),
    Country("126", "SE", "Zweden", 0.2, "neighbour", "nordic", True),
    Country("108", "DK", "Denemarken", 0.1, "neighbour", "nordic", True),
    Country("110", "FI", "Finland", 0.1, "neighbour", "nordic", True),
    Country("127", "CH", "Zwitserland", 0.1, "neighbour", "de_DE", True),
    Country("112", "GB", "Verenigd Koninkrijk", 0.7, "neighbour", "en_GB", False),
    Country("145", "RU", "Rusland", 1.5, "balkan_exsoviet", "cyrillic_ru", False, 0.0, _USSR),
    Country("143", "UA", "Oekraïne", 1.5, "balkan_exsoviet", "cyrillic_ua", False, 0.0, _USSR),
    Country("142", "BY", "Belarus", 0.1, "balkan_exsoviet", "cyrillic_ru", False, 0.0, _USSR),
    Country("144", "MD", "Moldavië", 0.2, "balkan_exsoviet", "ro_RO", False, 0.0, _USSR),
    Country("153", "XK", "Kosovo", 1.0, "balkan_exsoviet", "albanian", False, 0.02, _YUGOSLAVIA),
    Country("149", "BA", "Bosnië-Herzegovina", 0.6, "balkan_exsoviet", "bosnian", False, 0.0, _YUGOSLAVIA[:1]),
    Country("152", "RS", "Servië", 0.8, "balkan_exsoviet", "bosnian", False, 0.0, _YUGOSLAVIA),
    Country("151", "ME", "Montenegro", 0.2, "balkan_exsoviet", "bosnian", False, 0.0, _YUGOSLAVIA),
    Country("148", "MK", "Noord-Macedonië", 0.6, "balkan_exsoviet", "albanian", False, 0.0, _YUGOSLAVIA[:1]),
    Country("101", "AL", "Albanië", 0.8, "balkan_exsoviet", "albanian", False),
    Country("249", "AM", "Armenië", 0.4, "balkan_exsoviet", "caucasus", False, 0.02, _USSR),
    Country("253", "GE", "Georgië", 0.3, "balkan_exsoviet", "caucasus", False, 0.0, _USSR),
    Country("227", "UZ", "Oezbekistan", 0.2, "asia", "caucasus", False, 0.02, _USSR),
    Country("306", "CD", "Congo (Dem. Rep.)", 2.2, "africa", "central_africa", False, 0.08,
            (("359", 1960), ("364", 1997))),
    Country("303", "BI", "Burundi", 0.4, "africa", "central_africa", False, 0.08),
    Country("327", "RW", "Rwanda", 0.4, "africa", "central_africa", False, 0.08),
    Country("351", "DZ", "Algerije", 1.0, "guest_worker", "fr_DZ", False, 0.03),
    Country("357", "TN", "Tunesië", 0.5, "guest_worker", "fr_DZ", False, 0.02),
    Country("352", "EG", "Egypte", 0.3, "africa", "mideast", False, 0.03),
    Country("322", "NG", "Nigeria", 0.6, "africa", "west_africa", False, 0.10),
    Country("314", "GH", "Ghana", 0.7, "africa", "west_africa", False, 0.10),
    Country("315", "GN", "Guinee", 0.8, "refugee", "west_africa", False, 0.30),
    Country("304", "CM", "Kameroen", 0.6, "africa", "west_africa", False, 0.08),
    Country("320", "SN", "Senegal", 0.3, "africa", "west_africa", False, 0.08),
    Country("328", "SL", "Sierra Leone", 0.1, "refugee", "west_africa", False, 0.25),
    Country("325", "ZA", "Zuid-Afrika", 0.1, "africa", "en_GB", False),
    Country("329", "SO", "Somalië", 0.6, "refugee", "somali", False, 0.40),
    Country("349", "ER", "Eritrea", 0.6, "refugee", "horn", False, 0.35),
    Country("311", "ET", "Ethiopië", 0.3, "refugee", "horn", False, 0.30),
    Country("261", "SY", "Syrië", 2.5, "refugee", "mideast", False, 0.10),
    Country("251", "AF", "Afghanistan", 2.2, "refugee", "afghan", False, 0.45),
    Country("254", "IQ", "Irak", 1.5, "refugee", "mideast", False, 0.20),
    Country("255", "IR", "Iran", 0.8, "refugee", "persian", False, 0.05),
    Country("271", "PS", "Palestina", 0.6, "refugee", "mideast", False, 0.10),
    Country("258", "LB", "Libanon", 0.2, "asia", "mideast", False, 0.03),
    Country("257", "JO", "Jordanië", 0.1, "asia", "mideast", False, 0.03),
    Country("207", "IN", "India", 2.0, "asia", "en_IN", False, 0.03),
    Country("218", "CN", "China", 1.2, "asia", "chinese", False),
    Country("214", "PH", "Filipijnen", 0.8, "asia", "southeast_asia", False),
    Country("259", "PK", "Pakistan", 1.0, "asia", "south_asia", False, 0.15),
    Country("235", "TH", "Thailand", 0.8, "asia", "southeast_asia", False),
    Country("213", "NP", "Nepal", 0.5, "asia", "south_asia", False, 0.10),
    Country("220", "VN", "Vietnam", 0.4, "asia", "southeast_asia", False),
    Country("237", "BD", "Bangladesh", 0.3, "asia", "south_asia", False, 0.15),
    Country("402", "US", "Verenigde Staten", 0.6, "neighbour", "en_US", False),
    Country("401", "CA", "Canada", 0.2, "neighbour", "en_US", False),
    Country("513", "BR", "Brazilië", 0.8, "latam", "pt_BR", False),
    Country("515", "CO", "Colombia", 0.4, "latam", "es_CO", False),
    Country("516", "EC", "Ecuador", 0.3, "latam", "es_CO", False),
    Country("412", "CU", "Cuba", 0.2, "latam", "es_CO", False),
)

BY_NIS = {country.nis: country for country in COUNTRIES}
