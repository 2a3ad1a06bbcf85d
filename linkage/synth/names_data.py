"""Latin-script name lists for origins that Faker covers only in another script or not at all.

Each list is ordered from common to rare (the generator weights by rank). The spellings are
the ones Belgian registers typically hold (French/Dutch transliteration for Maghreb names);
other spellings of the same name are produced by ``linkage.synth.variants``.
"""

from __future__ import annotations

MAGHREB_MALE = (
    "Mohamed", "Ahmed", "Youssef", "Mustapha", "Abdelkader", "Said", "Rachid", "Hassan",
    "Khalid", "Karim", "Driss", "Omar", "Abdelaziz", "Hamid", "Nordin", "Bilal", "Ilias",
    "Ayoub", "Mehdi", "Hicham", "Abdellah", "Mimoun", "Brahim", "Aziz", "Jamal", "Redouane",
    "Soufiane", "Anouar", "Zakaria", "Hamza", "Adil", "Tarik", "Nabil", "Mourad", "Samir",
    "Abderrahim", "Abdelhak", "Ismail", "Yassine", "Othmane", "Badr", "Fouad", "Larbi",
    "Rayan", "Imad", "Younes", "Noureddine", "Abdeslam", "Lahcen", "Mohammed",
)
MAGHREB_FEMALE = (
    "Fatima", "Khadija", "Aicha", "Naima", "Malika", "Samira", "Rachida", "Zohra", "Latifa",
    "Hafsa", "Salma", "Yasmina", "Nora", "Siham", "Meryem", "Imane", "Hanane", "Karima",
    "Souad", "Nadia", "Saida", "Loubna", "Ikram", "Houda", "Najat", "Fadoua", "Wafae",
    "Soukaina", "Hajar", "Chaimae", "Zineb", "Rkia", "Mina", "Hasna", "Btissam", "Asmae",
    "Kaoutar", "Oumaima", "Sanae", "Ilham",
)
MAGHREB_SURNAMES = (
    "El Amrani", "Benali", "El Idrissi", "Bouzid", "Amrani", "El Ouardi", "Azzouzi",
    "Boukhari", "El Khattabi", "Ait Ouali", "Ben Ahmed", "Chaouki", "Haddouchi", "El Hamdaoui",
    "Bouazza", "El Bakkali", "Ouali", "Tahiri", "Lamrini", "El Moussaoui", "Bouchtaoui",
    "Ahmadi", "Boulahya", "El Yousfi", "Mokhtari", "Bouziane", "El Kaddouri", "Ait Taleb",
    "Boutaleb", "El Hadioui", "Zeroual", "Benaissa", "El Mahdaoui", "Ouazzani", "Belhadj",
    "Abdellaoui", "Chakir", "El Ghazi", "Mansouri", "Ben Abdeslam", "Essaidi", "Akkouh",
    "El Ouafi", "Boukhris", "El Boukili", "Bakkali", "Chahbi", "Aouragh", "Lahlali",
    "Abd El Kader", "Ben Haddou", "Ait Hammou", "El Aissati", "Ouchan", "Hamdaoui",
)

MIDEAST_MALE = (
    "Mohammad", "Ahmad", "Mahmoud", "Abdullah", "Khaled", "Omar", "Ali", "Hussein",
    "Yousef", "Ibrahim", "Mustafa", "Bashar", "Rami", "Firas", "Ammar", "Hasan", "Samer",
    "Walid", "Ziad", "Tarek", "Nizar", "Fadi", "Majd", "Karam", "Qusai", "Anas", "Osama",
    "Jihad", "Abdulrahman", "Mazen", "Haidar", "Saif", "Mohannad", "Raed", "Hamoudi",
)
MIDEAST_FEMALE = (
    "Fatima", "Aya", "Rama", "Noor", "Layla", "Hala", "Rasha", "Lina", "Amal", "Reem",
    "Zeinab", "Maryam", "Rana", "Huda", "Ghada", "Dima", "Hiba", "Nour", "Batoul", "Sidra",
    "Raghad", "Shahd", "Heba", "Yara", "Asmaa", "Samar", "Nada", "Zahraa", "Manal", "Rawan",
)
MIDEAST_SURNAMES = (
    "Al Hassan", "Al Ahmad", "Haddad", "Khalil", "Hamdan", "Al Khatib", "Darwish", "Nasser",
    "Mansour", "Saleh", "Hussein", "Abboud", "Al Jabouri", "Al Obaidi", "Kurdi", "Al Ali",
    "Al Hamad", "Ibrahim", "Mahmoud", "Issa", "Youssef", "Al Mohammad", "Hammoud", "Aziz",
    "Al Saleh", "Shaheen", "Al Hussein", "Qasim", "Al Rashid", "Abdallah", "Othman",
    "Al Zoubi", "Suleiman", "Al Masri", "Kassem", "Jaber", "Al Tamimi", "Al Dulaimi", "Sabbagh",
    "Hijazi",
)

AFGHAN_MALE = (
    "Mohammad", "Ahmad", "Abdul", "Ali", "Reza", "Hamid", "Najib", "Sayed", "Mustafa", "Jawad",
    "Farid", "Rahmatullah", "Shafiq", "Naveed", "Hamidullah", "Zabihullah", "Nasir", "Wahid",
    "Mahdi", "Hussain", "Samiullah", "Ehsan", "Habib", "Sultan", "Jamshid", "Murtaza", "Amin",
    "Ahmad Shah", "Bilal", "Idris",
)
AFGHAN_FEMALE = (
    "Fatima", "Zahra", "Maryam", "Sakina", "Farzana", "Nazanin", "Mariam", "Shabnam", "Nargis",
    "Parwana", "Marzia", "Masuma", "Frishta", "Sima", "Roya", "Zainab", "Hamida", "Laila",
    "Soraya", "Mahbooba",
)
AFGHAN_SURNAMES = (
    "Ahmadi", "Rahimi", "Hashimi", "Karimi", "Popal", "Sultani", "Noori", "Safi", "Mohammadi",
    "Hussaini", "Stanikzai", "Wardak", "Khan", "Amiri", "Sharifi", "Rezaei", "Hosseini",
    "Jafari", "Azizi", "Nazari", "Sadat", "Habibi", "Haidari", "Rasuli", "Sediqi", "Qaderi",
    "Niazi", "Rahmani", "Mirzaei", "Yousufzai",
)

PERSIAN_MALE = (
    "Reza", "Ali", "Mehdi", "Hossein", "Amir", "Saeed", "Mohammad", "Hamid", "Majid", "Behrouz",
    "Farhad", "Kourosh", "Babak", "Arash", "Mostafa", "Dariush", "Pouya", "Navid",
)
PERSIAN_FEMALE = (
    "Maryam", "Fatemeh", "Zahra", "Leila", "Sara", "Mahsa", "Shirin", "Parisa", "Niloufar",
    "Azadeh", "Roya", "Nasrin", "Elham", "Mina", "Golnaz", "Soheila",
)
PERSIAN_SURNAMES = (
    "Hosseini", "Rezaei", "Mohammadi", "Ahmadi", "Karimi", "Moradi", "Jafari", "Rahimi",
    "Hashemi", "Ghorbani", "Sadeghi", "Mousavi", "Kazemi", "Rostami", "Ebrahimi", "Shirazi",
    "Tehrani", "Najafi", "Esfahani", "Farahani",
)

HORN_MALE = (
    "Yonas", "Filmon", "Robel", "Samuel", "Dawit", "Mulugeta", "Tesfalem", "Merhawi", "Abel",
    "Henok", "Yohannes", "Mussie", "Biniam", "Kidane", "Tekle", "Habtom", "Efrem", "Natnael",
    "Michael", "Daniel", "Semere", "Aron", "Amanuel", "Solomon", "Tesfay", "Berhane", "Haile",
    "Gebremedhin", "Tewelde", "Goitom",
)
HORN_FEMALE = (
    "Senait", "Helen", "Selam", "Saba", "Luwam", "Rahwa", "Yordanos", "Hiwet", "Feven",
    "Ruth", "Winta", "Eden", "Meron", "Tsega", "Lidya", "Mebrat", "Almaz", "Tirhas", "Hanna",
    "Semhar",
)
"""Eritrean and Ethiopian names. Their surnames are patronymic: a record's surname is the
father's given name, often followed by the grandfather's; registers keep one or both."""

SOMALI_MALE = (
    "Mohamed", "Abdi", "Hassan", "Ahmed", "Ali", "Abdullahi", "Omar", "Ismail", "Yusuf",
    "Abdirahman", "Mahad", "Abdirizak", "Liban", "Mukhtar", "Osman", "Farah",
)
SOMALI_FEMALE = (
    "Hodan", "Amina", "Fadumo", "Halima", "Sahra", "Asha", "Khadra", "Hawa", "Ifrah", "Nimco",
    "Sagal", "Ayan", "Ubah", "Deeqa", "Muna", "Filsan",
)
SOMALI_SURNAMES = (
    "Mohamed", "Abdi", "Hassan", "Ahmed", "Ali", "Farah", "Abdullahi", "Omar", "Warsame",
    "Jama", "Osman", "Hussein", "Ismail", "Nur", "Aden", "Yusuf", "Elmi", "Duale", "Hersi",
    "Guled",
)

CENTRAL_AFRICA_MALE = (
    "Jean", "Patrick", "Christian", "Pierre", "Joseph", "Emmanuel", "Serge", "Didier",
    "Jean-Pierre", "Jean-Claude", "Trésor", "Glody", "Junior", "Papy", "Olivier", "Eric",
    "Fabrice", "Cédric", "Héritier", "Blaise", "Dieudonné", "Guy", "Alain", "Aimé", "Rodrigue",
    "Prince", "Gloire", "Jonathan", "Bienvenu", "Fiston",
)
CENTRAL_AFRICA_FEMALE = (
    "Merveille", "Christelle", "Grace", "Marie", "Sandrine", "Nadine", "Esther", "Chantal",
    "Divine", "Ornella", "Clarisse", "Gladys", "Rebecca", "Sarah", "Naomie", "Joëlle",
    "Francine", "Benedicte", "Josiane", "Patience", "Ruth", "Mamie", "Nathalie", "Sylvie",
)
CENTRAL_AFRICA_SURNAMES = (
    "Kabongo", "Mbuyi", "Tshibangu", "Ilunga", "Mukendi", "Kalala", "Lukusa", "Kasongo", "Ngoy",
    "Mwamba", "Nkulu", "Mulumba", "Kanku", "Ndaya", "Mbala", "Nsimba", "Makiese", "Lusamba",
    "Kabeya", "Tshimanga", "Mpoyi", "Banza", "Kapinga", "Mutombo", "Ntumba", "Kalonji",
    "Niyonzima", "Habimana", "Nshimirimana", "Uwimana", "Ndayishimiye", "Hakizimana",
    "Mukamana", "Uwase", "Nkurunziza", "Bizimana", "Nsengiyumva", "Ndikumana",
)

WEST_AFRICA_MALE = (
    "Mamadou", "Ibrahima", "Ousmane", "Alpha", "Abdoulaye", "Amadou", "Moussa", "Souleymane",
    "Kwame", "Kofi", "Kwabena", "Emmanuel", "Samuel", "Chukwuemeka", "Oluwaseun", "Ikechukwu",
    "Boubacar", "Thierno", "Lamine", "Sekou", "Yaw", "Kwaku", "Issa", "Modou", "Cheikh",
)
WEST_AFRICA_FEMALE = (
    "Aminata", "Fatoumata", "Mariama", "Kadiatou", "Aissatou", "Hawa", "Abena", "Akosua",
    "Ama", "Efua", "Adwoa", "Ngozi", "Chiamaka", "Blessing", "Mercy", "Oluwakemi", "Adaeze",
    "Binta", "Ramatoulaye", "Fanta",
)
WEST_AFRICA_SURNAMES = (
    "Diallo", "Bah", "Barry", "Sow", "Camara", "Traoré", "Koné", "Touré", "Mensah", "Owusu",
    "Asante", "Boateng", "Okafor", "Adeyemi", "Okonkwo", "Eze", "Nwosu", "Balde", "Sylla",
    "Condé", "Keita", "Diop", "Ndiaye", "Fofana", "Sesay", "Kamara", "Osei", "Agyeman",
    "Nkemelu", "Fotso", "Ngono", "Tchoupo", "Mbarga", "Njoya",
)

ALBANIAN_MALE = (
    "Arben", "Blerim", "Fatmir", "Besnik", "Valon", "Ilir", "Agron", "Driton", "Arianit",
    "Bekim", "Shpend", "Artan", "Gentian", "Florian", "Ermal", "Fisnik", "Albion", "Liridon",
    "Ardit", "Dardan",
)
ALBANIAN_FEMALE = (
    "Drita", "Arta", "Vjosa", "Blerta", "Fjolla", "Mimoza", "Liridona", "Shqipe", "Albulena",
    "Valbona", "Arbnora", "Besa", "Teuta", "Donika", "Elira", "Kaltrina",
)
ALBANIAN_SURNAMES = (
    "Berisha", "Gashi", "Krasniqi", "Hoxha", "Shala", "Morina", "Bytyqi", "Kastrati",
    "Rexhepi", "Hasani", "Kelmendi", "Ahmeti", "Gjoka", "Thaqi", "Musliu", "Leka", "Dervishi",
    "Zeqiri", "Halili", "Sahiti",
)

BOSNIAN_MALE = (
    "Amir", "Edin", "Emir", "Nermin", "Dragan", "Goran", "Zoran", "Milan", "Nikola", "Adnan",
    "Senad", "Mirza", "Dejan", "Stefan", "Miloš", "Haris", "Kenan", "Jasmin", "Dženan", "Aleksandar",
)
BOSNIAN_FEMALE = (
    "Amra", "Lejla", "Jasmina", "Mirela", "Jelena", "Ivana", "Snežana", "Aida", "Emina",
    "Selma", "Dragana", "Milica", "Azra", "Belma", "Nermina", "Marija",
)
BOSNIAN_SURNAMES = (
    "Hodžić", "Begić", "Delić", "Hadžić", "Kovačević", "Petrović", "Jovanović", "Nikolić",
    "Marković", "Đorđević", "Stojanović", "Mehmedović", "Hasanović", "Ilić", "Pavlović",
    "Omerović", "Mujić", "Babić", "Popović", "Husić",
)

CAUCASUS_MALE = (
    "Armen", "Tigran", "Davit", "Giorgi", "Levan", "Aram", "Gor", "Narek", "Zurab", "Irakli",
    "Rustam", "Elnur", "Ramil", "Akmal", "Bakhtiyor", "Aslan", "Ruslan", "Shamil",
)
CAUCASUS_FEMALE = (
    "Nino", "Anahit", "Mariam", "Lusine", "Tamar", "Ani", "Gayane", "Ketevan", "Leyla",
    "Gulnara", "Dilnoza", "Madina", "Zarina", "Aida",
)
CAUCASUS_SURNAMES = (
    "Grigoryan", "Petrosyan", "Hakobyan", "Sargsyan", "Harutyunyan", "Beridze", "Kapanadze",
    "Gelashvili", "Maisuradze", "Mammadov", "Aliyev", "Huseynov", "Karimov", "Rakhimov",
    "Yusupov", "Abdullayev", "Gevorgyan", "Khachatryan",
)

GREEK_MALE = (
    "Georgios", "Dimitrios", "Konstantinos", "Nikolaos", "Ioannis", "Christos", "Panagiotis",
    "Vasileios", "Athanasios", "Evangelos", "Michail", "Spyridon",
)
GREEK_FEMALE = (
    "Maria", "Eleni", "Aikaterini", "Vasiliki", "Sofia", "Angeliki", "Georgia", "Dimitra",
    "Konstantina", "Paraskevi", "Anastasia", "Ioanna",
)
GREEK_SURNAMES = (
    "Papadopoulos", "Georgiou", "Nikolaidis", "Dimitriou", "Papadakis", "Konstantinidis",
    "Oikonomou", "Vlachos", "Papageorgiou", "Ioannidis", "Makris", "Karagiannis", "Pappas",
    "Antoniou", "Christodoulou",
)

NORDIC_MALE = ("Lars", "Anders", "Mikael", "Jens", "Johan", "Erik", "Mika", "Juha", "Niklas", "Sören")
NORDIC_FEMALE = ("Anna", "Karin", "Sofie", "Maja", "Ingrid", "Kirsten", "Päivi", "Elin", "Astrid", "Linnea")
NORDIC_SURNAMES = (
    "Andersen", "Nielsen", "Hansen", "Johansson", "Larsson", "Virtanen", "Korhonen",
    "Jensen", "Karlsson", "Nilsson", "Mäkinen", "Pedersen", "Eriksson", "Lindqvist",
)

CHINESE_MALE = ("Wei", "Jun", "Lei", "Hao", "Jian", "Ming", "Yong", "Tao", "Xiaoming", "Zhiwei", "Chen Long")
CHINESE_FEMALE = ("Jing", "Li Na", "Yan", "Hui", "Ying", "Mei", "Xiu Ying", "Fang", "Lan", "Xiaoli", "Yu")
CHINESE_SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Lin",
)

SOUTHEAST_ASIA_MALE = (
    "Jose", "Mark", "John Paul", "Rommel", "Somchai", "Anan", "Van Minh", "Duc Anh", "Quang",
    "Ramon", "Jerome", "Prasert",
)
SOUTHEAST_ASIA_FEMALE = (
    "Maria", "Angelica", "Maricel", "Jocelyn", "Siriporn", "Nong", "Thi Lan", "Thi Huong",
    "Kanya", "Rosalie", "Cherry", "Malee", "Ngoc Anh", "Lorna",
)
SOUTHEAST_ASIA_SURNAMES = (
    "Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Nguyen", "Tran", "Le", "Pham",
    "Srisuk", "Saetang", "Wongsawat", "Phommachanh", "Dela Cruz", "Villanueva",
)

SOUTH_ASIA_MALE = (
    "Muhammad", "Imran", "Asif", "Bilal", "Usman", "Kamran", "Tariq", "Zeeshan", "Rajesh",
    "Suresh", "Prakash", "Ram", "Bishal", "Rahul", "Sandeep", "Harpreet", "Gurpreet",
)
SOUTH_ASIA_FEMALE = (
    "Ayesha", "Sana", "Nadia", "Saima", "Fatima", "Priya", "Sita", "Sunita", "Anjali", "Kiran",
    "Gita", "Manpreet", "Rubina",
)
SOUTH_ASIA_SURNAMES = (
    "Khan", "Ahmed", "Ali", "Hussain", "Butt", "Malik", "Chaudhry", "Iqbal", "Shrestha",
    "Gurung", "Tamang", "Rai", "Singh", "Kaur", "Sharma", "Rahman", "Islam", "Hossain",
)

INTERNATIONAL_YOUNG_MALE = (
    "Adam", "Noah", "Rayan", "Ilyas", "Amir", "Yusuf", "Zakaria", "Nassim", "Sami", "Elias",
    "Ayoub", "Imran", "Aaron", "Liam", "Rayane", "Younes",
)
INTERNATIONAL_YOUNG_FEMALE = (
    "Sara", "Amina", "Lina", "Yasmine", "Ines", "Nour", "Hiba", "Malak", "Aya", "Sofia",
    "Maryam", "Lara", "Salma", "Ella", "Hajar", "Nora",
)
"""Given names that second-generation children of Maghreb, Turkish and Middle-Eastern
origin increasingly receive (domain research, section 5.4)."""

TURKISH_SURNAMES_EXTRA = (
    "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir", "Doğan",
    "Kılıç", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat", "Korkmaz", "Erdem",
    "Güneş", "Tekin", "Bozkurt", "Çakır", "Keskin", "Uçar", "Gül", "Güler", "Yavuz",
)
"""Common Turkish surnames missing from Faker's short ``tr_TR`` list."""

TURKISH_MALE_COMMON = (
    "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman",
    "Yusuf", "Murat", "Ömer", "Ramazan", "Halil", "Süleyman", "Abdullah", "Emre", "Burak",
    "Kemal", "Recep", "Serkan", "Volkan", "Erkan", "Fatih", "Cengiz", "Tolga", "Uğur", "Yasin",
)
TURKISH_FEMALE_COMMON = (
    "Fatma", "Ayşe", "Emine", "Hatice", "Zeynep", "Elif", "Meryem", "Şerife", "Zehra", "Sultan",
    "Hanife", "Merve", "Özlem", "Yasemin", "Derya", "Esra", "Büşra", "Gül", "Hülya", "Songül",
    "Kübra", "Nurcan", "Tülay", "Sevgi",
)
"""The most frequent Turkish given names; Faker's ``tr_TR`` lists are long and flat, so the
generator draws from these most of the time and from Faker for the tail."""

CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "yo", "є": "ye",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya", "'": "",
}
"""A passport-style (English) romanisation; ``variants`` derives the French/German-style
spellings (ch/tch, j/zh, ou/u ...) that other registers hold."""
