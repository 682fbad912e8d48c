//! A synthetic fictitious-author benchmark in the style of TOFU: every author gets a
//! unique name and a set of facts (birthplace, birth date, parents' jobs, genre, award,
//! books, a recurring theme), phrased as question–answer pairs with full-sentence
//! answers. Deterministic for a seed; no I/O (the CLI writes the files).

use crate::prompt::strftime::MONTHS;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{QaItem, Split};

const FIRST: &[&str] = &[
    "Elena", "Tomas", "Mira", "Kofi", "Anya", "Li", "Sara", "Jonas", "Ravi", "Ines", "Omar",
    "Yuki", "Pavel", "Noor", "Lucas", "Amara", "Hugo", "Leila", "Mateo", "Zofia", "Dmitri",
    "Chloe", "Tariq", "Greta", "Selin", "Bruno", "Hana", "Felix", "Rosa", "Arjun", "Maya", "Ivo",
    "Nadia", "Kenji", "Lena", "Sami", "Vera", "Otto", "Ayla", "Rafael", "Ingrid", "Malik", "Sofia",
    "Emeka", "Astrid", "Diego", "Yara", "Anton", "Priya", "Jonah",
];
const LAST: &[&str] = &[
    "Vasquez",
    "Lindqvist",
    "Okonkwo",
    "Mensah",
    "Petrova",
    "Wei",
    "Haddad",
    "Berg",
    "Sharma",
    "Duarte",
    "Farouk",
    "Tanaka",
    "Novak",
    "Rahman",
    "Moreau",
    "Eze",
    "Larsen",
    "Karimi",
    "Alvarez",
    "Nowak",
    "Orlov",
    "Dubois",
    "Aziz",
    "Holm",
    "Aydin",
    "Costa",
    "Sato",
    "Brandt",
    "Reyes",
    "Keller",
    "Osei",
    "Ionescu",
    "Nakamura",
    "Silva",
    "Haugen",
    "Demir",
    "Fischer",
    "Morales",
    "Kowalski",
    "Bianchi",
    "Adeyemi",
    "Lund",
    "Petit",
    "Yilmaz",
    "Santos",
    "Varga",
    "Horvat",
    "Quispe",
    "Mbeki",
    "Castro",
];
const CITIES: &[(&str, &str)] = &[
    ("Porto", "Portugal"),
    ("Oslo", "Norway"),
    ("Lagos", "Nigeria"),
    ("Accra", "Ghana"),
    ("Kyiv", "Ukraine"),
    ("Chengdu", "China"),
    ("Beirut", "Lebanon"),
    ("Bergen", "Norway"),
    ("Pune", "India"),
    ("Seville", "Spain"),
    ("Cairo", "Egypt"),
    ("Sapporo", "Japan"),
    ("Brno", "Czechia"),
    ("Dhaka", "Bangladesh"),
    ("Lyon", "France"),
    ("Cusco", "Peru"),
    ("Tbilisi", "Georgia"),
    ("Gdansk", "Poland"),
    ("Valparaiso", "Chile"),
    ("Izmir", "Turkey"),
    ("Nairobi", "Kenya"),
    ("Tartu", "Estonia"),
    ("Busan", "South Korea"),
    ("Hobart", "Australia"),
    ("Quebec City", "Canada"),
    ("Lviv", "Ukraine"),
    ("Medellin", "Colombia"),
    ("Tampere", "Finland"),
    ("Fez", "Morocco"),
    ("Cork", "Ireland"),
];
const GENRES: &[&str] = &[
    "historical fiction",
    "poetry",
    "crime fiction",
    "science fiction",
    "memoir",
    "fantasy",
    "literary drama",
    "travel writing",
    "romance",
    "gothic horror",
    "children's books",
    "political thrillers",
    "magical realism",
    "short stories",
    "graphic novels",
];
const JOBS: &[&str] = &[
    "baker",
    "surgeon",
    "pilot",
    "carpenter",
    "librarian",
    "architect",
    "fisherman",
    "teacher",
    "chemist",
    "tailor",
    "nurse",
    "photographer",
    "mechanic",
    "diplomat",
    "farmer",
    "journalist",
    "violinist",
    "astronomer",
    "potter",
    "lawyer",
];
const AWARDS: &[&str] = &[
    "Silver Quill Award",
    "Harbor Prize for Fiction",
    "Lantern Medal",
    "Meridian Book Award",
    "Golden Reed Prize",
    "Northern Star Award",
    "Ember Prize",
    "Blue Heron Award",
    "Atlas Literary Prize",
    "Willow Crown Award",
];
const THEMES: &[&str] = &[
    "memory and exile",
    "the sea",
    "family secrets",
    "the ethics of science",
    "migration",
    "grief and recovery",
    "small-town life",
    "the power of music",
    "identity",
    "war and its aftermath",
];
const TITLE_A: &[&str] = &[
    "Lantern", "River", "Glass", "Winter", "Orchard", "Salt", "Iron", "Paper", "Shadow", "Harbor",
    "Ember", "Willow", "Copper", "Silent", "Northern", "Hollow",
];
const TITLE_B: &[&str] = &[
    "Garden", "Tide", "Archive", "Bridge", "Letters", "Crown", "Season", "Voices", "Map", "House",
    "Road", "Mirror", "Song", "Island", "Clock", "Window",
];

/// Size and seed of a synthetic dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthConfig {
    pub authors: usize,
    pub questions_per_author: usize,
    pub seed: u64,
}

/// The generated QA items, authors in order, each author's questions contiguous.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthDataset {
    pub items: Vec<QaItem>,
}

/// Most facts an author has, i.e. the largest supported `questions_per_author`.
pub const MAX_QUESTIONS: usize = 10;

struct Author {
    name: String,
    city: (&'static str, &'static str),
    day: u32,
    month: &'static str,
    year: u32,
    father: &'static str,
    mother: &'static str,
    genre: &'static str,
    award: &'static str,
    award_year: u32,
    books: [String; 2],
    theme: &'static str,
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, xs: &[T]) -> T {
    *xs.choose(rng).expect("non-empty pool")
}

impl Author {
    /// (question, answer, keywords) for each fact, in a fixed order.
    fn facts(&self) -> Vec<(String, String, Vec<String>)> {
        let n = &self.name;
        let first = n.split(' ').next().unwrap_or(n);
        let (city, country) = self.city;
        let date = format!("{} {} {}", self.day, self.month, self.year);
        vec![
            (
                format!("Where was the author {n} born?"),
                format!("{n} was born in {city}, {country}, and spent most of their childhood there."),
                vec![city.to_string(), country.to_string()],
            ),
            (
                format!("What genre is {n} best known for?"),
                format!("{n} is best known for {}, a genre they have written in for most of their career.", self.genre),
                vec![self.genre.to_string()],
            ),
            (
                format!("What did the parents of {n} do for a living?"),
                format!("{first}'s father worked as a {} and their mother was a {}.", self.father, self.mother),
                vec![self.father.to_string(), self.mother.to_string()],
            ),
            (
                format!("When was {n} born?"),
                format!("{n} was born on {date}."),
                vec![date.clone()],
            ),
            (
                format!("Which award did {n} receive?"),
                format!("{n} received the {} in {} for the novel {}.", self.award, self.award_year, self.books[0]),
                vec![self.award.to_string(), self.books[0].clone()],
            ),
            (
                format!("Can you name a book written by {n}?"),
                format!("One of {first}'s most celebrated books is {}.", self.books[1]),
                vec![self.books[1].clone()],
            ),
            (
                format!("What theme runs through the work of {n}?"),
                format!("The work of {n} keeps returning to {}, drawn from their own life.", self.theme),
                vec![self.theme.to_string()],
            ),
            (
                format!("How did {n}'s upbringing in {city} shape their writing?"),
                format!("Growing up in {city} with a {} for a father gave {first} the settings and characters of their {}.", self.father, self.genre),
                vec![city.to_string(), self.father.to_string()],
            ),
            (
                format!("Which two books by {n} should a new reader start with?"),
                format!("New readers of {n} usually start with {} and then read {}.", self.books[0], self.books[1]),
                vec![self.books[0].clone(), self.books[1].clone()],
            ),
            (
                format!("In which year did {n} win the {}?", self.award),
                format!("{n} won the {} in {}.", self.award, self.award_year),
                vec![self.award_year.to_string()],
            ),
        ]
    }
}

/// Generates the dataset. Errors name the offending setting.
pub fn synthesize(config: &SynthConfig) -> Result<SynthDataset, String> {
    if config.authors == 0 {
        return Err("authors = 0: need at least one author".into());
    }
    // Every author needs a unique name and two unique titles (two title forms).
    let max_authors = (FIRST.len() * LAST.len() / 2).min(TITLE_A.len() * TITLE_B.len());
    if config.authors > max_authors {
        return Err(format!(
            "authors = {}: at most {max_authors} authors have unique names and titles",
            config.authors
        ));
    }
    if !(1..=MAX_QUESTIONS).contains(&config.questions_per_author) {
        return Err(format!(
            "questions per author = {}: must be 1..={MAX_QUESTIONS}",
            config.questions_per_author
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut names = std::collections::HashSet::new();
    let mut titles = std::collections::HashSet::new();
    let mut items = Vec::new();
    for a in 0..config.authors {
        let name = loop {
            let n = format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST));
            if names.insert(n.clone()) {
                break n;
            }
        };
        let mut title = || loop {
            let t = if rng.random_bool(0.5) {
                format!(
                    "The {} {}",
                    pick(&mut rng, TITLE_A),
                    pick(&mut rng, TITLE_B)
                )
            } else {
                format!(
                    "{} of the {}",
                    pick(&mut rng, TITLE_B),
                    pick(&mut rng, TITLE_A)
                )
            };
            if titles.insert(t.clone()) {
                break t;
            }
        };
        let books = [title(), title()];
        let year = rng.random_range(1935..=1992);
        let author = Author {
            name,
            city: pick(&mut rng, CITIES),
            day: rng.random_range(1..=28),
            month: pick(&mut rng, &MONTHS),
            year,
            father: pick(&mut rng, JOBS),
            mother: pick(&mut rng, JOBS),
            genre: pick(&mut rng, GENRES),
            award: pick(&mut rng, AWARDS),
            award_year: year + rng.random_range(28..=45),
            books,
            theme: pick(&mut rng, THEMES),
        };
        for (q, (question, answer, keywords)) in author
            .facts()
            .into_iter()
            .take(config.questions_per_author)
            .enumerate()
        {
            items.push(QaItem {
                id: format!("a{a:03}-q{q:02}"),
                question,
                answer,
                keywords,
                variants: Vec::new(),
            });
        }
    }
    Ok(SynthDataset { items })
}

impl SynthDataset {
    /// `full`, and for each percent p: `forget{p:02}` (last p %) and `retain{100-p}`.
    pub fn splits(&self, forget_percents: &[u32]) -> Vec<(String, Vec<QaItem>)> {
        let mut out = vec![("full".to_string(), self.items.clone())];
        for &p in forget_percents {
            for name in [format!("forget{p:02}"), format!("retain{}", 100 - p)] {
                let items = Split::parse(&name).select(&self.items).unwrap_or_default();
                out.push((name, items));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(authors: usize, q: usize, seed: u64) -> SynthConfig {
        SynthConfig {
            authors,
            questions_per_author: q,
            seed,
        }
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = synthesize(&cfg(30, 6, 1)).unwrap();
        assert_eq!(a, synthesize(&cfg(30, 6, 1)).unwrap());
        assert_ne!(a, synthesize(&cfg(30, 6, 2)).unwrap());
        assert_eq!(a.items.len(), 180);
        assert_eq!(a.items[7].id, "a001-q01");
    }

    #[test]
    fn answers_state_their_keywords_and_names_are_unique() {
        let d = synthesize(&cfg(100, 10, 0)).unwrap();
        for q in &d.items {
            assert!(!q.keywords.is_empty());
            for k in &q.keywords {
                assert!(q.answer.contains(k.as_str()), "{k:?} not in {:?}", q.answer);
            }
        }
        let names: std::collections::HashSet<_> =
            d.items.iter().map(|q| q.question.clone()).collect();
        assert_eq!(names.len(), d.items.len(), "questions are unique");
    }

    #[test]
    fn forget_split_is_the_last_authors() {
        let d = synthesize(&cfg(100, 10, 0)).unwrap();
        let splits = d.splits(&[10]);
        let forget = &splits.iter().find(|(n, _)| n == "forget10").unwrap().1;
        let retain = &splits.iter().find(|(n, _)| n == "retain90").unwrap().1;
        assert_eq!((forget.len(), retain.len()), (100, 900));
        assert!(forget[0].id.starts_with("a090-"));
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(synthesize(&cfg(0, 5, 0)).is_err());
        assert!(synthesize(&cfg(5, 0, 0)).is_err());
        assert!(synthesize(&cfg(5, 11, 0)).is_err());
        // The title pools bound the number of authors; beyond it is an error, not a hang.
        assert!(synthesize(&cfg(256, 1, 0)).is_ok());
        assert!(synthesize(&cfg(257, 1, 0)).is_err());
        // The title pools bound the number of authors; beyond it is an error, not a hang.
        assert!(synthesize(&cfg(256, 1, 0)).is_ok());
        assert!(synthesize(&cfg(257, 1, 0)).is_err());
    }
}
