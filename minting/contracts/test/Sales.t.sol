// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {SongmintEditions} from "../SongmintEditions.sol";
import {SongmintFactory} from "../SongmintFactory.sol";
import {SongmintSplit} from "../SongmintSplit.sol";
import {Fixtures} from "./Fixtures.sol";
import {TestBase} from "./Vm.sol";

/// Every sale path and every revert a collector can hit; splits; the factory; ERC-4906; lazy tokens.
contract SalesTest is TestBase {
    SongmintFactory internal f;
    SongmintEditions internal ed;
    SongmintSplit internal split;
    address internal constant A = address(0xA1);
    address internal constant B = address(0xB2);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B0);
    address internal constant CAROL = address(0xCA201);
    uint256 internal constant ID = 1;
    uint88 internal constant PRICE = 0.01 ether;

    event MetadataUpdate(uint256 _tokenId);
    event BatchMetadataUpdate(uint256 _fromTokenId, uint256 _toTokenId);
    event Purchased(
        uint256 indexed id, address indexed buyer, uint256 quantity, uint256 paid, address recipient, bool allowlisted
    );

    function setUp() public {
        f = new SongmintFactory();
        split = SongmintSplit(payable(f.createSplit(_addrs(A, B), _bps(7000, 3000))));
        SongmintEditions.Config memory c = SongmintEditions.Config("Songs", "SONG", "", "ipfs://c", address(this),
            address(split), 500, address(split));
        ed = SongmintEditions(f.createRelease("sales", c));
        ed.create(address(this), ID, 0, 10, 0, "");
        vm.warp(1000);
        ed.setSale(ID, _cfg(PRICE, 0, 2000, 3000, 3, 0));
    }

    // ---- helpers ------------------------------------------------------------------------------

    function _addrs(address a, address b) internal pure returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = (a, b);
    }

    function _bps(uint16 a, uint16 b) internal pure returns (uint16[] memory r) {
        r = new uint16[](2);
        (r[0], r[1]) = (a, b);
    }

    function _cfg(uint88 price, uint40 pre, uint40 start, uint40 end, uint32 perWallet, bytes32 root)
        internal
        pure
        returns (SongmintEditions.SaleConfig memory)
    {
        return SongmintEditions.SaleConfig(price, pre, start, end, perWallet, false, address(0), root);
    }

    function _buy(address who, uint256 id, uint256 qty, uint256 value) internal {
        vm.deal(who, value);
        vm.prank(who);
        ed.purchase{value: value}(id, qty);
    }

    function _leaf(address who, uint256 maxQty, uint256 price) internal pure returns (bytes32) {
        return keccak256(abi.encode(who, maxQty, price));
    }

    function _p1(bytes32 a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = a;
    }

    function _p2(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](2);
        (r[0], r[1]) = (a, b);
    }

    /// A four-leaf allowlist: ALICE (2 at 0.005), BOB (1 free), CAROL (5 at 0.01), A (1 at 1 ether).
    function _allowlist() internal pure returns (bytes32 root, bytes32[4] memory l) {
        l = [_leaf(ALICE, 2, 0.005 ether), _leaf(BOB, 1, 0), _leaf(CAROL, 5, 0.01 ether), _leaf(A, 1, 1 ether)];
        root = Hashes.commutativeKeccak256(Hashes.commutativeKeccak256(l[0], l[1]),
            Hashes.commutativeKeccak256(l[2], l[3]));
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector;
    }

    // ---- public sale --------------------------------------------------------------------------

    function test_publicPurchasePaysTheSplit() public {
        vm.warp(2000);
        vm.expectEmit();
        emit Purchased(ID, ALICE, 2, 2 * uint256(PRICE), address(split), false);
        _buy(ALICE, ID, 2, 2 * uint256(PRICE));
        assertEq(ed.balanceOf(ALICE, ID), 2, "editions");
        assertEq(address(split).balance, 0.02 ether, "revenue at the split");
        assertEq(split.releasable(A), 0.014 ether, "70 %");
        assertEq(split.releasable(B), 0.006 ether, "30 %");
        (, address recipient, uint256 bought,) = ed.saleInfo(ID, ALICE);
        assertEq(recipient, address(split), "recipient");
        assertEq(bought, 2, "bought");
        (address r, uint256 royalty) = ed.royaltyInfo(ID, 1 ether);
        assertEq(r, address(split), "royalties go to the same split");
        assertEq(royalty, 0.05 ether, "5 %");
    }

    function test_notStartedAndEnded() public {
        vm.deal(ALICE, 1 ether);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleNotStarted.selector, ID, 2000));
        ed.purchase{value: PRICE}(ID, 1);
        vm.warp(3000);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleEnded.selector, ID, 3000));
        ed.purchase{value: PRICE}(ID, 1);
    }

    function test_wrongPaymentBothWays() public {
        vm.warp(2500);
        vm.deal(ALICE, 1 ether);
        vm.startPrank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.WrongPayment.selector, ID, 0.02 ether, 0.01 ether));
        ed.purchase{value: 0.01 ether}(ID, 2);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.WrongPayment.selector, ID, 0.01 ether, 0.02 ether));
        ed.purchase{value: 0.02 ether}(ID, 1);
        vm.stopPrank();
        assertEq(ed.totalSupply(ID), 0, "nothing minted");
    }

    function test_walletLimit() public {
        vm.warp(2500);
        _buy(ALICE, ID, 3, 3 * uint256(PRICE));
        vm.deal(ALICE, 1 ether);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.WalletLimitExceeded.selector, ID, 3, 4));
        ed.purchase{value: PRICE}(ID, 1);
        _buy(BOB, ID, 3, 3 * uint256(PRICE)); // the limit is per wallet
    }

    function test_overTheCap() public {
        ed.setSale(ID, _cfg(PRICE, 0, 0, 0, 0, 0));
        _buy(ALICE, ID, 9, 9 * uint256(PRICE));
        vm.deal(BOB, 1 ether);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.EditionCapExceeded.selector, ID, 10, 11));
        ed.purchase{value: 2 * uint256(PRICE)}(ID, 2);
        _buy(BOB, ID, 1, PRICE);
        assertEq(ed.totalSupply(ID), 10, "sold out at the cap");
    }

    function test_pauseAndResume() public {
        vm.warp(2500);
        ed.setSalePaused(ID, true);
        vm.deal(ALICE, 1 ether);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleIsPaused.selector, ID));
        ed.purchase{value: PRICE}(ID, 1);
        ed.setSalePaused(ID, false);
        _buy(ALICE, ID, 1, PRICE);
        assertEq(ed.balanceOf(ALICE, ID), 1, "bought after resume");
    }

    function test_noSaleZeroQuantityAndBadWindow() public {
        ed.create(address(this), 2, 0, 5, 0, "");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleNotConfigured.selector, 2));
        ed.purchase(2, 1);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleNotConfigured.selector, 2));
        ed.setSalePaused(2, true);
        vm.warp(2500);
        vm.expectRevert(SongmintEditions.ZeroQuantity.selector);
        ed.purchase(ID, 0);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.InvalidSaleWindow.selector, 0, 500, 400));
        ed.setSale(ID, _cfg(1, 0, 500, 400, 0, 0));
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.TokenDoesNotExist.selector, 77));
        ed.setSale(77, _cfg(1, 0, 0, 0, 0, 0));
    }

    function test_freeSaleAndOpenEdition() public {
        ed.create(address(this), 5, 0, type(uint64).max, 0, "");
        ed.setSale(5, _cfg(0, 0, 1000, 1100, 0, 0));
        _buy(ALICE, 5, 1000, 0);
        _buy(BOB, 5, 5000, 0);
        assertEq(ed.totalSupply(5), 6000, "open edition: no cap within the window");
        vm.warp(1100);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleEnded.selector, 5, 1100));
        ed.purchase(5, 1);
    }

    function test_recipientThatRefusesPayment() public {
        SongmintEditions.SaleConfig memory c = _cfg(PRICE, 0, 0, 0, 0, 0);
        c.recipient = address(f); // a contract without receive()
        ed.setSale(ID, c);
        vm.deal(ALICE, 1 ether);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.PaymentFailed.selector, address(f)));
        ed.purchase{value: PRICE}(ID, 1);
    }

    // ---- allowlist presale --------------------------------------------------------------------

    function test_allowlistPresale() public {
        (bytes32 root, bytes32[4] memory l) = _allowlist();
        ed.setSale(ID, _cfg(PRICE, 1500, 2000, 3000, 3, root));
        bytes32 right = Hashes.commutativeKeccak256(l[2], l[3]);
        vm.deal(ALICE, 1 ether);
        vm.startPrank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleNotStarted.selector, ID, 1500));
        ed.purchaseAllowlisted{value: 0.005 ether}(ID, 1, 2, 0.005 ether, _p2(l[1], right));
        vm.warp(1600);
        ed.purchaseAllowlisted{value: 0.01 ether}(ID, 2, 2, 0.005 ether, _p2(l[1], right));
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.AllowlistLimitExceeded.selector, ID, 2, 3));
        ed.purchaseAllowlisted{value: 0.005 ether}(ID, 1, 2, 0.005 ether, _p2(l[1], right));
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.NotOnAllowlist.selector, ID, ALICE));
        ed.purchaseAllowlisted{value: 0.001 ether}(ID, 1, 2, 0.001 ether, _p2(l[1], right)); // another price
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleNotStarted.selector, ID, 2000));
        ed.purchase{value: PRICE}(ID, 1); // the public sale is not open yet
        vm.stopPrank();
        vm.prank(CAROL); // Alice's proof is not Carol's
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.NotOnAllowlist.selector, ID, CAROL));
        ed.purchaseAllowlisted(ID, 1, 2, 0.005 ether, _p2(l[1], right));
        vm.prank(BOB); // a free allowlist slot
        ed.purchaseAllowlisted(ID, 1, 1, 0, _p2(l[0], right));
        assertEq(ed.balanceOf(ALICE, ID) + ed.balanceOf(BOB, ID), 3, "presale editions");
        assertEq(address(split).balance, 0.01 ether, "paid the leaf's price");
        vm.warp(2000);
        _buy(ALICE, ID, 3, 3 * uint256(PRICE)); // public limit counted apart from the allowlist
        vm.warp(3000);
        vm.prank(CAROL);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.SaleEnded.selector, ID, 3000));
        ed.purchaseAllowlisted(ID, 1, 5, 0.01 ether, _p2(l[3], Hashes.commutativeKeccak256(l[0], l[1])));
    }

    function test_allowlistWithoutRoot() public {
        vm.warp(2000);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.NotOnAllowlist.selector, ID, address(this)));
        ed.purchaseAllowlisted(ID, 1, 1, 0, new bytes32[](0));
    }

    // ---- admins only --------------------------------------------------------------------------

    function testFuzz_onlyAdminsChangeSales(address caller) public {
        vm.assume(caller != address(this));
        bytes32 admin = ed.DEFAULT_ADMIN_ROLE();
        bytes32 minter = ed.MINTER_ROLE();
        SongmintEditions.SaleConfig memory c = _cfg(0, 0, 0, 0, 0, 0);
        vm.startPrank(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, admin));
        ed.setSale(ID, c);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, admin));
        ed.setSalePaused(ID, true);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, admin));
        ed.setFundsRecipient(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, minter));
        ed.registerTokens(bytes32(uint256(1)), true);
        vm.stopPrank();
        (SongmintEditions.Sale memory s, address r,,) = ed.saleInfo(ID, caller);
        assertEq(s.price, PRICE, "price unchanged");
        assertEq(r, address(split), "recipient unchanged");
    }

    // ---- splits -------------------------------------------------------------------------------

    function test_splitWithdrawals() public {
        vm.deal(address(this), 1 ether);
        (bool ok,) = address(split).call{value: 1 ether}("");
        assertTrue(ok, "split receives");
        assertEq(split.withdraw(A), 0.7 ether, "A's share");
        assertEq(A.balance, 0.7 ether, "paid to A");
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.NothingToWithdraw.selector, A));
        split.withdraw(A);
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.NotAPayee.selector, ALICE));
        split.withdraw(ALICE);
        (ok,) = address(split).call{value: 0}("");
        vm.deal(address(split), address(split).balance + 1 ether);
        assertEq(split.releasable(A), 0.7 ether, "A's share of the second ether");
        assertEq(split.withdraw(B), 0.6 ether, "B's share of both");
        (address[] memory who, uint256[] memory bps) = split.payees();
        assertTrue(who.length == 2 && who[0] == A && bps[1] == 3000, "payees");
    }

    function test_splitConfigurationErrors() public {
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.SplitSharesMustSumTo10000.selector, 9000));
        f.createSplit(_addrs(A, B), _bps(6000, 3000));
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.SplitInvalidPayee.selector, A));
        f.createSplit(_addrs(A, A), _bps(5000, 5000));
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.SplitInvalidPayee.selector, address(0)));
        f.createSplit(_addrs(address(0), A), _bps(5000, 5000));
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.SplitZeroShare.selector, B));
        f.createSplit(_addrs(A, B), _bps(10000, 0));
        vm.expectRevert(abi.encodeWithSelector(SongmintSplit.SplitLengthMismatch.selector, 2, 0));
        f.createSplit(_addrs(A, B), new uint16[](0));
        assertEq(f.predictSplit(_addrs(A, B), _bps(7000, 3000)), address(split), "split address known");
        vm.expectRevert(Errors.FailedDeployment.selector);
        f.createSplit(_addrs(A, B), _bps(7000, 3000)); // the same split exists: reuse it
    }

    function testFuzz_splitPaysInProportion(uint96 first, uint96 second, uint16 bpsA) public {
        bpsA = uint16(bound(bpsA, 1, 9999));
        SongmintSplit s = SongmintSplit(payable(f.createSplit(_addrs(ALICE, BOB), _bps(bpsA, 10000 - bpsA))));
        vm.deal(address(s), first);
        uint256 a = s.releasable(ALICE);
        if (a > 0) s.withdraw(ALICE);
        vm.deal(address(s), address(s).balance + second);
        uint256 total = uint256(first) + second;
        if (s.releasable(ALICE) > 0) s.withdraw(ALICE);
        if (s.releasable(BOB) > 0) s.withdraw(BOB);
        assertEq(ALICE.balance, total * bpsA / 10000, "A in proportion");
        assertEq(BOB.balance, total * (10000 - bpsA) / 10000, "B in proportion");
        assertTrue(address(s).balance <= 1, "at most one wei of rounding stays");
    }

    // ---- factory, clones, initialisers ---------------------------------------------------------

    function test_factoryPredictsAndInitialisesOnce() public {
        address predicted = f.predictRelease(address(this), "next");
        address other = f.predictRelease(ALICE, "next");
        assertTrue(predicted != other && predicted.code.length == 0, "salt bound to the sender");
        SongmintEditions e = Fixtures.release(f, "next", "b/{id}", "c", ALICE, address(0), 0);
        assertEq(address(e), predicted, "created at the predicted address");
        assertEq(address(e).code.length, 45, "an EIP-1167 minimal proxy");
        assertTrue(e.hasRole(e.DEFAULT_ADMIN_ROLE(), ALICE) && !e.hasRole(e.DEFAULT_ADMIN_ROLE(), address(f)), "admin");
        assertEq(e.fundsRecipient(), ALICE, "funds go to the admin by default");
        SongmintEditions.Config memory c = SongmintEditions.Config("X", "X", "", "", BOB, address(0), 0, BOB);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        e.initialize(c);
        SongmintEditions impl = SongmintEditions(f.editionsImplementation());
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        impl.initialize(c);
        vm.expectRevert(Errors.FailedDeployment.selector);
        Fixtures.release(f, "next", "", "", ALICE, address(0), 0);
    }

    // ---- ERC-4906 ------------------------------------------------------------------------------

    function test_erc4906() public {
        assertTrue(ed.supportsInterface(0x49064906), "ERC-4906");
        vm.expectEmit();
        emit MetadataUpdate(ID);
        ed.setTokenURI(ID, "ar://x");
        uint32 p = ed.addUriPrefix("p/");
        vm.expectEmit();
        emit MetadataUpdate(ID);
        ed.setTokenUriPrefix(ID, p);
        vm.expectEmit();
        emit BatchMetadataUpdate(0, type(uint256).max);
        ed.setBaseURI("n/{id}");
    }

    // ---- gasless creation ----------------------------------------------------------------------

    function _lazy(uint256 id, uint64 cap, uint32 prefix) internal pure returns (SongmintEditions.LazyToken memory) {
        return SongmintEditions.LazyToken(id, cap, prefix,
            SongmintEditions.SaleConfig(PRICE, 0, 0, 0, 2, false, address(0), 0));
    }

    function test_lazyTokensAreCreatedByTheFirstPurchase() public {
        uint32 p = ed.addUriPrefix("ipfs://dir/metadata/");
        SongmintEditions.LazyToken memory t1 = _lazy(0x1234, 100, p);
        SongmintEditions.LazyToken memory t2 = _lazy(0x5678, 5, p);
        bytes32 l1 = keccak256(abi.encode(t1));
        bytes32 l2 = keccak256(abi.encode(t2));
        bytes32 root = Hashes.commutativeKeccak256(l1, l2);
        ed.registerTokens(root, true);
        assertTrue(!ed.exists(t1.id), "not created up front");
        vm.deal(ALICE, 1 ether);
        vm.startPrank(ALICE);
        ed.purchaseLazy{value: 2 * uint256(PRICE)}(t1, _p1(l2), 2);
        assertEq(ed.balanceOf(ALICE, t1.id), 2, "created and minted");
        assertEq(ed.uri(t1.id),
            "ipfs://dir/metadata/0000000000000000000000000000000000000000000000000000000000001234.json", "uri");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.WalletLimitExceeded.selector, t1.id, 2, 3));
        ed.purchaseLazy{value: PRICE}(t1, _p1(l2), 1); // its sale came from the leaf
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.TokenAlreadyExists.selector, t1.id));
        ed.createLazy(t1, _p1(l2)); // a leaf creates at most once
        SongmintEditions.LazyToken memory forged = _lazy(0x5678, 500, p);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.InvalidTokenProof.selector, 0x5678));
        ed.purchaseLazy{value: PRICE}(forged, _p1(l1), 1);
        vm.stopPrank();
        ed.registerTokens(root, false); // revoked: unsold tokens can no longer be created
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.InvalidTokenProof.selector, 0x5678));
        ed.purchaseLazy(t2, _p1(l1), 1);
        assertEq(address(split).balance, 2 * uint256(PRICE), "paid");
    }
}
