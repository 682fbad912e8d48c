//! The evaluation runner's `Observer::greedy` hook: it hears each group's greedy answers,
//! decoded and scored as the report has them, after they are drawn and before any of the
//! group's samples is asked for — with fixed-n and with sequential sampling. (The web app
//! shows the greedy verdict from it while the samples are drawn.)

use std::cell::RefCell;
use std::rc::Rc;

use probable_core::data::QaItem;
use probable_core::eval::{
    run_evaluation, sequential::Rounds, Decoded, EvalConfig, EvalError, EvalSetup, Observer,
    Sampler,
};
use probable_core::prompt::Prompt;
use probable_core::sample::{DecodeConfig, Generation, Progress, PromptJob, Step};
use probable_core::tokenizer::Tokenizer;

/// What happened, in order.
type Log = Rc<RefCell<Vec<String>>>;

/// Greedy answers and samples without a model: ids 40..44 for a greedy answer, 50..52 for
/// every sample.
struct Fake(Log);

impl Sampler for Fake {
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        _: &DecodeConfig,
        _: usize,
    ) -> Result<Vec<Generation>, EvalError> {
        self.0
            .borrow_mut()
            .push(format!("draw greedy ×{}", jobs.len()));
        Ok(jobs
            .iter()
            .map(|_| generation(0, vec![40, 41, 42, 43]))
            .collect())
    }

    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        _: &DecodeConfig,
        _: usize,
        _: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError> {
        self.0.borrow_mut().push("draw samples".into());
        Ok(jobs
            .iter()
            .map(|j| {
                j.samples
                    .clone()
                    .map(|i| generation(i, vec![50, 51]))
                    .collect()
            })
            .collect())
    }
}

fn generation(sample_index: u32, tokens: Vec<u32>) -> Generation {
    Generation {
        sample_index,
        tokens,
        stopped_on_eos: false,
        seed: None,
    }
}

/// 8 samples of 4 tokens a question, drawn at once or in sequential rounds.
fn config(sequential: Option<Rounds>) -> EvalConfig {
    let mut config = EvalConfig::new(8, DecodeConfig::paper(4, vec![], 1), Prompt::qa());
    config.sequential = sequential;
    config
}

fn setup<'a>(config: &'a EvalConfig, tokenizer: &'a Tokenizer) -> EvalSetup<'a> {
    EvalSetup {
        config,
        tokenizer,
        bos: None,
        names: ("fake", "", ""),
        shard: None,
    }
}

struct Heard(Log);

impl Observer for Heard {
    fn greedy(&mut self, answers: &[Decoded]) {
        for a in answers {
            self.0
                .borrow_mut()
                .push(format!("greedy {:?} {:?} {}", a.ids, a.text, a.score));
        }
    }
}

#[test]
fn the_greedy_hook_hears_each_answer_before_its_samples_are_drawn() {
    let tokenizer =
        Tokenizer::from_json(include_bytes!("../../public/models/npo/tokenizer.json")).unwrap();
    let text = tokenizer.decode(&[40, 41, 42, 43]).unwrap();
    let item = QaItem {
        id: "0".into(),
        question: "Who wrote it?".into(),
        // The greedy answer's own text: ROUGE-L recall 1.
        answer: text.clone(),
        keywords: vec![],
        variants: vec![],
    };
    for sequential in [None, Some(Rounds { round: 4 })] {
        let log: Log = Rc::default();
        let config = config(sequential);
        let setup = setup(&config, &tokenizer);
        let report = pollster::block_on(run_evaluation(
            &mut Fake(log.clone()),
            &setup,
            &[(0, item.clone())],
            Vec::new(),
            &mut Heard(log.clone()),
        ))
        .unwrap();
        let greedy = &report.questions[0].greedy;
        assert_eq!((greedy.text.as_str(), greedy.score), (text.as_str(), 1.0));
        let log = log.borrow();
        assert_eq!(
            log[..3],
            [
                "draw greedy ×1".to_string(),
                format!("greedy [40, 41, 42, 43] {text:?} 1"),
                "draw samples".to_string(),
            ],
            "{sequential:?}: {log:?}"
        );
        assert_eq!(
            log.iter().filter(|l| l.starts_with("greedy")).count(),
            1,
            "{log:?}"
        );
    }
}

/// Hands back, for every even sample, the copy a page decoded as the samples streamed in
/// (marked by its score); for sample 1, a copy of other ids (which must not be used).
struct Streamed {
    reference: Decoded,
    asked: usize,
}

impl Observer for Streamed {
    fn decoded(&mut self, prompt_index: u32, sample: &Generation) -> Option<Decoded> {
        assert_eq!(prompt_index, 0);
        self.asked += 1;
        let mut d = self.reference.clone();
        match sample.sample_index {
            i if i % 2 == 0 => d.score = 0.25,
            1 => d.ids = vec![99],
            _ => return None,
        }
        Some(d)
    }
}

#[test]
fn samples_the_observer_already_decoded_are_taken_not_decoded_again() {
    let tokenizer =
        Tokenizer::from_json(include_bytes!("../../public/models/npo/tokenizer.json")).unwrap();
    let item = QaItem {
        id: "0".into(),
        question: "Who wrote it?".into(),
        answer: tokenizer.decode(&[50, 51]).unwrap(),
        keywords: vec![],
        variants: vec![],
    };
    for sequential in [None, Some(Rounds { round: 4 })] {
        let config = config(sequential);
        let setup = setup(&config, &tokenizer);
        let reference =
            probable_core::eval::decode_sample(&setup, &generation(0, vec![50, 51]), &item)
                .unwrap();
        assert_eq!(reference.score, 1.0);
        let mut observer = Streamed {
            reference,
            asked: 0,
        };
        let report = pollster::block_on(run_evaluation(
            &mut Fake(Rc::default()),
            &setup,
            &[(0, item.clone())],
            Vec::new(),
            &mut observer,
        ))
        .unwrap();
        let samples = &report.questions[0].samples;
        assert!(!samples.is_empty(), "{sequential:?}");
        assert_eq!(
            observer.asked,
            samples.len(),
            "{sequential:?}: asked once per sample"
        );
        for (i, s) in samples.iter().enumerate() {
            // Even samples: the observer's copy; the others (sample 1's copy has other
            // ids) decoded by the runner.
            let want = if i % 2 == 0 { 0.25 } else { 1.0 };
            assert_eq!(
                (s.score, &s.ids),
                (want, &vec![50, 51]),
                "{sequential:?}: sample {i}"
            );
        }
    }
}
