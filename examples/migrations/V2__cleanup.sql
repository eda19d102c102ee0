-- The kind of change that reaches production on a Friday afternoon.
SET foreign_key_checks = 0;

ALTER TABLE orders DROP COLUMN status;
ALTER TABLE orders MODIFY total FLOAT;

UPDATE orders SET total = 0 AND customer_id = 1;
DELETE FROM customers;

GRANT ALL PRIVILEGES ON *.* TO 'reporting'@'%' IDENTIFIED BY 'changeme';

-- dbakit-ignore query-select-star: ad-hoc check kept for the release notes
SELECT * FROM orders ORDER BY RAND() LIMIT 10;
