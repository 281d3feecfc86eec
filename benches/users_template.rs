//! Rendering the Database Users page (askama) with 50 rows, a page as the
//! dashboard shows it, and 1,000 rows, the whole list of a mid-sized
//! database: `cargo bench --bench users_template`. See BENCHMARKS.md.

use std::hint::black_box;

use askama::Template;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pgusers::roles::{DatabaseUser, PasswordEncryption, Restriction};
use pgusers::web::list_place::ListPlace;
use pgusers::web::pages::{Chrome, Place, UsersPage};

/// `rows` users as a database lists them: half read-only, a protected
/// user, one in twenty not manageable.
fn page(rows: usize) -> UsersPage {
    let users = (0..rows)
        .map(|i| DatabaseUser {
            username: format!("user_{i:05}"),
            read_only: i % 2 == 0,
            protected: i == 0,
            password_encryption: PasswordEncryption::ScramSha256,
            not_manageable: (i % 20 == 7).then_some(Restriction::CreateRole),
            sessions: (i % 3) as u64,
            expires: (i % 10 == 3).then(|| "2027-01-31T00:00:00Z".to_owned()),
            expired: false,
            connection_limit: (i % 10 == 4).then_some(5),
        })
        .collect();
    UsersPage {
        chrome: Chrome {
            operator: "admin".to_owned(),
            csrf: "x".repeat(43),
            place: Some(Place {
                id: "my_app_4553".to_owned(),
                name: "my_app_4553".to_owned(),
            }),
            back: String::new(),
        },
        users,
        total: 10_001,
        place: ListPlace::default(),
        problems: Vec::new(),
        flash: None,
        encryption_note: None,
    }
}

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("users page");
    for rows in [50, 1000] {
        let page = page(rows);
        let bytes = page.render().expect("the page renders").len();
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::new("render", rows), &page, |b, page| {
            b.iter(|| black_box(page.render().expect("the page renders")));
        });
        println!("{rows} rows: {bytes} bytes of HTML");
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
