// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {SongmintEditions} from "../SongmintEditions.sol";
import {SongmintFactory} from "../SongmintFactory.sol";
import {SongmintSplit} from "../SongmintSplit.sol";
import {TestBase} from "./Vm.sol";

/// Random collectors buy (public and allowlisted, paying right or wrong), payees withdraw at random,
/// strangers try to change the sale; the ghost state is checked against the chain after every call.
contract SaleHandler is TestBase {
    SongmintEditions public immutable ed;
    SongmintSplit public immutable split;
    uint256 public constant ID = 7;
    uint256 public constant PRICE = 0.003 ether;
    uint256 public constant ALLOW_PRICE = 0.001 ether;
    address public constant LISTED = address(0x1157);
    address public constant OTHER_LISTED = address(0x2157);
    bytes32 public immutable otherLeaf;
    bytes32 public immutable listedLeaf;

    uint256 public paidIn; // wei that collectors paid in successful purchases
    uint256 public minted; // editions bought
    uint256 public boughtPublic; // editions bought in the public sale
    bool public strangerChangedSale;

    constructor(SongmintEditions ed_, SongmintSplit split_) {
        ed = ed_;
        split = split_;
        listedLeaf = keccak256(abi.encode(LISTED, uint256(4), ALLOW_PRICE));
        otherLeaf = keccak256(abi.encode(OTHER_LISTED, uint256(1), uint256(0)));
    }

    function root() external view returns (bytes32) {
        return Hashes.commutativeKeccak256(listedLeaf, otherLeaf);
    }

    function buy(uint256 actor, uint256 qty, uint256 wrongBy) external {
        address buyer = address(uint160(bound(actor, 1, 8)) + 0x1000);
        qty = bound(qty, 0, 12);
        uint256 value = PRICE * qty;
        if (wrongBy % 4 == 0) value += bound(wrongBy, 1, 1 ether); // a quarter of the calls pay wrongly
        vm.deal(buyer, value);
        vm.prank(buyer);
        try ed.purchase{value: value}(ID, qty) {
            paidIn += value;
            minted += qty;
            boughtPublic += qty;
        } catch {}
    }

    function buyAllowlisted(uint256 qty, bool asOther) external {
        qty = bound(qty, 1, 3);
        address buyer = asOther ? OTHER_LISTED : LISTED;
        (uint256 maxQty, uint256 price) = asOther ? (uint256(1), uint256(0)) : (uint256(4), ALLOW_PRICE);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = asOther ? listedLeaf : otherLeaf;
        vm.deal(buyer, price * qty);
        vm.prank(buyer);
        try ed.purchaseAllowlisted{value: price * qty}(ID, qty, maxQty, price, proof) {
            paidIn += price * qty;
            minted += qty;
        } catch {}
    }

    function withdraw(bool first) external {
        (address[] memory who,) = split.payees();
        try split.withdraw(who[first ? 0 : 1]) {} catch {}
    }

    function strangerChanges(address stranger, uint88 price, bool pause) external {
        if (stranger == address(this) || ed.hasRole(bytes32(0), stranger)) return;
        vm.startPrank(stranger);
        try ed.setSale(ID, SongmintEditions.SaleConfig(price, 0, 0, 0, 0, false, stranger, 0)) {
            strangerChangedSale = true;
        } catch {}
        try ed.setSalePaused(ID, pause) {
            strangerChangedSale = true;
        } catch {}
        try ed.setFundsRecipient(stranger) {
            strangerChangedSale = true;
        } catch {}
        vm.stopPrank();
    }
}

contract SalesInvariants is TestBase {
    SongmintEditions internal ed;
    SongmintSplit internal split;
    SaleHandler internal handler;
    uint64 internal constant CAP = 60;
    address internal constant P1 = address(0xF1);
    address internal constant P2 = address(0xF2);

    function setUp() public {
        SongmintFactory f = new SongmintFactory();
        address[] memory payees = new address[](2);
        (payees[0], payees[1]) = (P1, P2);
        uint16[] memory bps = new uint16[](2);
        (bps[0], bps[1]) = (6667, 3333);
        split = SongmintSplit(payable(f.createSplit(payees, bps)));
        ed = SongmintEditions(f.createRelease("inv", SongmintEditions.Config("S", "S", "", "", address(this),
            address(split), 1000, address(split))));
        handler = new SaleHandler(ed, split);
        ed.create(address(this), 7, 0, CAP, 0, "");
        ed.setSale(7, SongmintEditions.SaleConfig(uint88(handler.PRICE()), 0, 0, 0, 9, false, address(0),
            handler.root()));
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector;
    }

    function invariant_supplyNeverExceedsTheCap() public view {
        assertTrue(ed.totalSupply(7) <= CAP, "supply <= cap");
        assertEq(ed.totalSupply(7), handler.minted(), "supply == editions bought");
    }

    function invariant_fundsInArePriceTimesQuantityAndSplitInProportion() public view {
        uint256 received = address(split).balance + split.totalReleased();
        assertEq(received, handler.paidIn(), "everything paid reached the split");
        assertTrue(handler.paidIn() >= handler.boughtPublic() * handler.PRICE(), "public editions paid in full");
        assertEq(split.released(P1) + split.releasable(P1), received * 6667 / 10000, "payee 1 in proportion");
        assertEq(split.released(P2) + split.releasable(P2), received * 3333 / 10000, "payee 2 in proportion");
        assertEq(P1.balance, split.released(P1), "withdrawn = paid out");
    }

    function invariant_onlyAdminsChangeASale() public view {
        assertTrue(!handler.strangerChangedSale(), "a stranger changed the sale");
        (SongmintEditions.Sale memory s, address recipient,,) = ed.saleInfo(7, address(0));
        assertEq(s.price, handler.PRICE(), "price");
        assertEq(recipient, address(split), "recipient");
        assertTrue(!s.paused, "not paused");
    }
}
