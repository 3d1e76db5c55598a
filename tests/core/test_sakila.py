"""A public sample database nobody here wrote: Sakila (BSD licence, Oracle; see
tests/fixtures/sakila), with its store ↔ staff cycle (``store.manager_staff_id`` UNIQUE,
``staff.store_id``), the GEOMETRY ``address.location``, ENUM and SET columns, TINYINT and
SMALLINT UNSIGNED ids, ``rental``'s ``UNIQUE(rental_date, inventory_id, customer_id)``
over two references, its triggers (``customer_create_date``, ``payment_date``,
``rental_date`` stamp ``NOW()``; ``ins_film`` fills ``film_text``), a view and a stored
function. The schema follows ``sakila-schema.sql`` 1.5 and a few of its rows (the two
stores, Mike Hillyer and Jon Stephens, MARY SMITH, ACADEMY DINOSAUR).

Friday opened a third store with a new manager and a new customer who rented and paid;
production, live since the snapshot, did the same with its own people under the same
ids. Restored on every path, every Friday row is there once, by meaning, with Friday's
dates (not the restore's ``NOW()``), the views and routines untouched, and verify clean.
"""

from __future__ import annotations

from typing import Any

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.runbook.verify import verify
from sqlalchemy import Engine, text

from ..conftest import Databases

SCHEMA = """
CREATE TABLE country (country_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT, country VARCHAR(50) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (country_id));
CREATE TABLE city (city_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT, city VARCHAR(50) NOT NULL,
  country_id SMALLINT UNSIGNED NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (city_id), CONSTRAINT fk_city_country FOREIGN KEY (country_id) REFERENCES country (country_id));
CREATE TABLE address (address_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT, address VARCHAR(50) NOT NULL,
  district VARCHAR(20) NOT NULL, city_id SMALLINT UNSIGNED NOT NULL, phone VARCHAR(20) NOT NULL, location GEOMETRY NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (address_id),
  SPATIAL KEY idx_location (location), CONSTRAINT fk_address_city FOREIGN KEY (city_id) REFERENCES city (city_id));
CREATE TABLE staff (staff_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT, first_name VARCHAR(45) NOT NULL,
  last_name VARCHAR(45) NOT NULL, address_id SMALLINT UNSIGNED NOT NULL, email VARCHAR(50) DEFAULT NULL,
  store_id TINYINT UNSIGNED NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE, username VARCHAR(16) NOT NULL,
  password VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (staff_id),
  CONSTRAINT fk_staff_address FOREIGN KEY (address_id) REFERENCES address (address_id));
CREATE TABLE store (store_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT, manager_staff_id TINYINT UNSIGNED NOT NULL,
  address_id SMALLINT UNSIGNED NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (store_id), UNIQUE KEY idx_unique_manager (manager_staff_id),
  CONSTRAINT fk_store_staff FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id),
  CONSTRAINT fk_store_address FOREIGN KEY (address_id) REFERENCES address (address_id));
ALTER TABLE staff ADD CONSTRAINT fk_staff_store FOREIGN KEY (store_id) REFERENCES store (store_id);
CREATE TABLE language (language_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT, name CHAR(20) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (language_id));
CREATE TABLE film (film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT, title VARCHAR(128) NOT NULL, description TEXT,
  language_id TINYINT UNSIGNED NOT NULL, rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
  rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',
  special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') DEFAULT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (film_id),
  CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES language (language_id));
CREATE TABLE film_text (film_id SMALLINT UNSIGNED NOT NULL, title VARCHAR(255) NOT NULL, description TEXT,
  PRIMARY KEY (film_id), FULLTEXT KEY idx_title_description (title, description));
CREATE TABLE customer (customer_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT, store_id TINYINT UNSIGNED NOT NULL,
  first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL, email VARCHAR(50) DEFAULT NULL,
  address_id SMALLINT UNSIGNED NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE, create_date DATETIME NOT NULL,
  last_update TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (customer_id),
  CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES address (address_id),
  CONSTRAINT fk_customer_store FOREIGN KEY (store_id) REFERENCES store (store_id));
CREATE TABLE inventory (inventory_id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT, film_id SMALLINT UNSIGNED NOT NULL,
  store_id TINYINT UNSIGNED NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (inventory_id), CONSTRAINT fk_inventory_store FOREIGN KEY (store_id) REFERENCES store (store_id),
  CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id));
CREATE TABLE rental (rental_id INT NOT NULL AUTO_INCREMENT, rental_date DATETIME NOT NULL,
  inventory_id MEDIUMINT UNSIGNED NOT NULL, customer_id SMALLINT UNSIGNED NOT NULL, return_date DATETIME DEFAULT NULL,
  staff_id TINYINT UNSIGNED NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (rental_id), UNIQUE KEY (rental_date, inventory_id, customer_id),
  CONSTRAINT fk_rental_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
  CONSTRAINT fk_rental_inventory FOREIGN KEY (inventory_id) REFERENCES inventory (inventory_id),
  CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id));
CREATE TABLE payment (payment_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT, customer_id SMALLINT UNSIGNED NOT NULL,
  staff_id TINYINT UNSIGNED NOT NULL, rental_id INT DEFAULT NULL, amount DECIMAL(5,2) NOT NULL, payment_date DATETIME NOT NULL,
  last_update TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, PRIMARY KEY (payment_id),
  CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (rental_id) ON DELETE SET NULL,
  CONSTRAINT fk_payment_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
  CONSTRAINT fk_payment_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id));
CREATE VIEW staff_list AS SELECT s.staff_id AS ID, CONCAT(s.first_name, _utf8mb4' ', s.last_name) AS name,
  a.address AS address, s.store_id AS SID FROM staff AS s JOIN address AS a ON s.address_id = a.address_id;
"""
ROUTINE = """CREATE FUNCTION inventory_in_stock(p_inventory_id INT) RETURNS BOOLEAN READS SQL DATA
BEGIN
    DECLARE v_rentals INT;
    SELECT COUNT(*) INTO v_rentals FROM rental WHERE inventory_id = p_inventory_id AND return_date IS NULL;
    RETURN v_rentals = 0;
END"""
TRIGGERS = [
    "CREATE TRIGGER customer_create_date BEFORE INSERT ON customer FOR EACH ROW SET NEW.create_date = NOW()",
    "CREATE TRIGGER payment_date BEFORE INSERT ON payment FOR EACH ROW SET NEW.payment_date = NOW()",
    "CREATE TRIGGER rental_date BEFORE INSERT ON rental FOR EACH ROW SET NEW.rental_date = NOW()",
    "CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW BEGIN\n"
    "  INSERT INTO film_text (film_id, title, description) VALUES (new.film_id, new.title, new.description);\nEND",
]
SNAPSHOT = """
INSERT INTO country VALUES (8,'Australia','2006-02-15 04:44:00'), (20,'Canada','2006-02-15 04:44:00');
INSERT INTO city VALUES (300,'Lethbridge',20,'2006-02-15 04:45:25'), (576,'Woodridge',8,'2006-02-15 04:45:25');
INSERT INTO address VALUES (1,'47 MySakila Drive','Alberta',300,'',ST_GeomFromText('POINT(-112.8185647 49.6999986)'),'2014-09-25 22:30:27'),
  (2,'28 MySQL Boulevard','QLD',576,'',ST_GeomFromText('POINT(153.1408538 -27.6032632)'),'2014-09-25 22:30:09'),
  (3,'23 Workhaven Lane','Alberta',300,'14033335568',ST_GeomFromText('POINT(-112.8185673 49.6999951)'),'2014-09-25 22:30:27'),
  (4,'1411 Lillydale Drive','QLD',576,'6172235589',ST_GeomFromText('POINT(153.1913094 -27.6333373)'),'2014-09-25 22:30:09'),
  (5,'1913 Hanoi Way','Alberta',300,'28303384290',ST_GeomFromText('POINT(-112.82 49.70)'),'2014-09-25 22:31:53');
INSERT INTO staff VALUES (1,'Mike','Hillyer',3,'Mike.Hillyer@sakilastaff.com',1,1,'Mike','8cb2237d0679ca88db6464eac60da96345513964','2006-02-15 03:57:16'),
  (2,'Jon','Stephens',4,'Jon.Stephens@sakilastaff.com',2,1,'Jon',NULL,'2006-02-15 03:57:16');
INSERT INTO store VALUES (1,1,1,'2006-02-15 04:57:12'), (2,2,2,'2006-02-15 04:57:12');
INSERT INTO language VALUES (1,'English','2006-02-15 05:02:19');
INSERT INTO film VALUES (1,'ACADEMY DINOSAUR','A Epic Drama of a Feminist And a Mad Scientist',1,0.99,'PG','Deleted Scenes,Behind the Scenes','2006-02-15 05:03:42');
INSERT INTO film_text VALUES (1,'ACADEMY DINOSAUR','A Epic Drama of a Feminist And a Mad Scientist');
INSERT INTO customer VALUES (1,1,'MARY','SMITH','MARY.SMITH@sakilacustomer.org',5,1,'2006-02-14 22:04:36','2006-02-15 04:57:20');
INSERT INTO inventory VALUES (1,1,1,'2006-02-15 05:09:17'), (2,1,2,'2006-02-15 05:09:17');
INSERT INTO rental VALUES (76,'2005-05-25 11:30:37',1,1,'2005-06-03 12:00:37',2,'2006-02-15 21:30:53');
INSERT INTO payment VALUES (1,1,1,76,2.99,'2005-05-25 11:30:37','2006-02-15 22:12:30');
"""
# Each side's rows after the snapshot, under the same ids: a third store whose manager is
# new (the cycle), a customer who rents and pays. Friday's dates are its own.
SIDE = """
INSERT INTO address VALUES (6,'{who} Street','Alberta',300,'555',ST_GeomFromText('POINT({x} 49.7)'),'2026-11-27 10:00:00');
INSERT INTO staff VALUES (3,'{who}','Manager',6,'{who}@sakilastaff.com',3,1,'{who}m',NULL,'2026-11-27 10:00:00');
INSERT INTO store VALUES (3,3,6,'2026-11-27 10:00:00');
INSERT INTO film VALUES (2,'{who} FILM','{who} film',1,2.99,'R','Trailers,Commentaries','2026-11-27 10:00:00');
INSERT INTO film_text VALUES (2,'{who} FILM','{who} film');
INSERT INTO inventory VALUES (3,2,3,'2026-11-27 10:00:00');
INSERT INTO customer VALUES (2,3,'{who}','CUSTOMER','{who}@sakilacustomer.org',6,1,'{date}','2026-11-27 10:00:00');
INSERT INTO rental VALUES (77,'{date}',3,2,NULL,3,'2026-11-27 10:00:00'), (78,'2005-05-25 11:30:37',1,2,NULL,1,'2026-11-27 10:00:00');
INSERT INTO payment VALUES (2,2,3,77,{amount},'{date}','2026-11-27 10:00:00');
"""
FRIDAY = dict(who="Friday", x="-113.1", date="2026-11-27 18:30:00", amount="4.99")
PRODUCTION = dict(who="Production", x="-114.2", date="2026-11-29 09:15:00", amount="0.99")


def _script(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        for stmt in (s.strip() for s in sql.split(";\n")):
            if stmt:
                conn.exec_driver_sql(stmt)


def _build(engine: Engine, *parts: str) -> None:
    _script(engine, SCHEMA)
    for part in parts:
        _script(engine, part)
    with engine.begin() as conn:   # the dump's triggers and routine, after its rows
        for stmt in [*TRIGGERS, ROUTINE]:
            conn.exec_driver_sql(stmt)


def _meaning(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    q = {
        "address": "SELECT address, ST_AsText(location) FROM address",
        "staff": "SELECT s.username, a.address, st.store_id IS NOT NULL FROM staff s JOIN address a USING (address_id) "
                 "LEFT JOIN store st ON st.store_id = s.store_id",
        "store": "SELECT m.username, a.address FROM store s JOIN staff m ON m.staff_id = s.manager_staff_id "
                 "JOIN address a ON a.address_id = s.address_id",
        "film": "SELECT title, rating, special_features FROM film",
        "film_text": "SELECT f.title, t.title FROM film_text t JOIN film f USING (film_id)",
        "inventory": "SELECT f.title, m.username FROM inventory i JOIN film f USING (film_id) JOIN store s USING (store_id) "
                     "JOIN staff m ON m.staff_id = s.manager_staff_id",
        "customer": "SELECT c.email, c.create_date, m.username FROM customer c JOIN store s USING (store_id) "
                    "JOIN staff m ON m.staff_id = s.manager_staff_id",
        "rental": "SELECT r.rental_date, c.email, f.title, st.username FROM rental r JOIN customer c USING (customer_id) "
                  "JOIN inventory i USING (inventory_id) JOIN film f USING (film_id) JOIN staff st ON st.staff_id = r.staff_id",
        "payment": "SELECT c.email, p.amount, p.payment_date, r.rental_date FROM payment p JOIN customer c USING (customer_id) "
                   "LEFT JOIN rental r USING (rental_id)",
    }
    with engine.connect() as conn:
        return {name: {tuple(str(v) for v in row) for row in conn.execute(text(sql))} for name, sql in q.items()}


def _objects(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
                                  "WHERE TABLE_SCHEMA = DATABASE()")).all(),
                conn.execute(text("SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES "
                                  "WHERE ROUTINE_SCHEMA = DATABASE()")).all(),
                conn.execute(text("SELECT TRIGGER_NAME, ACTION_STATEMENT, ACTION_ORDER FROM information_schema.TRIGGERS "
                                  "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1")).all())


@pytest.mark.parametrize("dbs", ["mariadb"], indirect=True)
def test_sakila_restores_by_meaning(dbs: Databases, staged: bool) -> None:
    e = dbs.engines
    _build(e["snapshot"], SNAPSHOT)
    _build(e["crashed"], SNAPSHOT, SIDE.format(**FRIDAY))
    _build(e["production"], SNAPSHOT, SIDE.format(**PRODUCTION))
    crashed, before, objects = _meaning(e["crashed"]), _meaning(e["production"]), _objects(e["production"])
    settings = load_settings(dbs.env_file(snapshot=True, snapshot_at=None), environ={})

    plan = build_plan(settings)
    assert {t.name for t in plan.triggers} == {"customer_create_date", "payment_date", "rental_date", "ins_film"}
    # Rental 78 is the same (date, inventory 1, customer) on both sides, but customer 2 is
    # a different person on each: no collision once Friday's customer has moved.
    assert {g.table: g.collisions for g in plan.tables if g.collisions} == {}

    restore(settings, options=RestoreOptions(approve_pending=True, staged=staged))
    after = _meaning(e["production"])
    for table in after:
        assert after[table] == before[table] | crashed[table], table
    assert _objects(e["production"]) == objects   # views, routines, triggers as they were
    assert verify(settings)[0] == []
