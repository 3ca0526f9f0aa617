"""A vehicle registered to its buyer no longer names the seller's mobile number.

Until now a registration kept the vehicle's `owner_mobile`, the seller's: one of the numbers
the office recorded under the buyer's ID number from then on, so the codes that prove that ID
number went to the seller's phone (and the seller knows the buyer's name and ID number from the
invoice). A registration now writes the buyer's own number once proven, else none; the
vehicles registered before forget the seller's number here (their buyers prove their identity
by the licence's recorded number or at a counter, as anyone without a recorded number does).
"""


def up(migrator, db):
    db.execute_sql(
        "UPDATE vehicle SET owner_mobile = NULL WHERE owner_mobile IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM transfer_case AS sale "
        'JOIN "user" AS seller ON seller.id = sale.seller_id '
        "WHERE sale.vehicle_id = vehicle.id AND sale.state = 'registered' "
        "AND seller.mobile = vehicle.owner_mobile)"
    )


def down(migrator, db):
    pass  # the numbers forgotten are not brought back
